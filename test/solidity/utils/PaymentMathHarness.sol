// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { SlashSplit } from "../../../contracts/payments/libraries/SlashSplit.sol";
import { PaymentMath } from "../../../contracts/storage/libraries/PaymentMath.sol";

/// @notice Exposes the internal functions of PaymentMath.
contract PaymentMathHarness {
    /// @notice PaymentMath.netSeconds.
    function netSeconds(
        uint256 start,
        uint256 horizon,
        uint256 faultedSeconds
    ) external pure returns (uint256) {
        return PaymentMath.netSeconds(start, horizon, faultedSeconds);
    }

    /// @notice PaymentMath.due.
    function due(uint256 pricePerSecond, uint256 net, uint256 paid) external pure returns (uint256) {
        return PaymentMath.due(pricePerSecond, net, paid);
    }

    /// @notice PaymentMath.faultPenalty.
    function faultPenalty(
        uint256 collateral,
        uint256 missed,
        uint256 declared,
        uint256 missedBps,
        uint256 declaredBps
    ) external pure returns (uint256) {
        return PaymentMath.faultPenalty(collateral, missed, declared, missedBps, declaredBps);
    }

    /// @notice SlashSplit.split (the split of a storage slash).
    function split(
        uint256 amount,
        uint256 treasuryBps,
        uint256 bountyBps
    ) external pure returns (uint256 toTreasury, uint256 toReporter, uint256 toHarmed) {
        return SlashSplit.split(amount, treasuryBps, bountyBps);
    }
}
