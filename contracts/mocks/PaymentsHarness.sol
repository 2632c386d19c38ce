// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { CreditLedger } from "../payments/CreditLedger.sol";
import { BasisPoints } from "../payments/libraries/BasisPoints.sol";
import { ExactPull } from "../payments/libraries/ExactPull.sol";
import { SlashSplit } from "../payments/libraries/SlashSplit.sol";

/// @notice Exposes the shared money modules (CreditLedger internals, ExactPull, BasisPoints, SlashSplit) for tests.
contract PaymentsHarness is CreditLedger {
    using ExactPull for IERC20;

    /// @notice Emitted by `charge` with the result of `_charge`.
    /// @param payer The payer.
    /// @param amount Amount charged.
    /// @param funded Whether the payer's balance or allowance paid it.
    event Charged(address indexed payer, uint256 amount, bool funded);
    /// @notice Emitted by `tryPull` with its result.
    /// @param pulled Whether exactly the amount arrived.
    event TryPulled(bool pulled);

    /// @param token_ The token.
    constructor(IERC20 token_) CreditLedger(token_) {}

    /// @notice CreditLedger._charge.
    /// @param payer The payer.
    /// @param amount Amount.
    function charge(address payer, uint256 amount) external {
        emit Charged(payer, amount, _charge(payer, amount));
    }

    /// @notice CreditLedger._credit.
    /// @param account The account.
    /// @param amount Amount (tests back it with tokens sent to the harness).
    function credit(address account, uint256 amount) external {
        _credit(account, amount);
    }

    /// @notice ExactPull.pull from the caller.
    /// @param amount Amount.
    function pull(uint256 amount) external {
        _token.pull(msg.sender, amount);
    }

    /// @notice ExactPull.tryPull from the caller.
    /// @param amount Amount.
    function tryPull(uint256 amount) external {
        emit TryPulled(_token.tryPull(msg.sender, amount));
    }

    /// @notice BasisPoints.BPS.
    /// @return The denominator.
    function bps() external pure returns (uint256) {
        return BasisPoints.BPS;
    }

    /// @notice BasisPoints.share.
    /// @param amount The whole.
    /// @param bps_ The share in basis points.
    /// @return The share, rounded down.
    function share(uint256 amount, uint256 bps_) external pure returns (uint256) {
        return BasisPoints.share(amount, bps_);
    }

    /// @notice SlashSplit.split.
    /// @param amount The slashed amount.
    /// @param treasuryBps Treasury share.
    /// @param reporterBps Reporter share.
    /// @return toTreasury Treasury part.
    /// @return toReporter Reporter part.
    /// @return toHarmed Remainder.
    function split(
        uint256 amount,
        uint256 treasuryBps,
        uint256 reporterBps
    ) external pure returns (uint256 toTreasury, uint256 toReporter, uint256 toHarmed) {
        return SlashSplit.split(amount, treasuryBps, reporterBps);
    }

    function _collectPending() internal override {} // solhint-disable-line no-empty-blocks

    function _payoutAddress(address account) internal pure override returns (address) {
        return account;
    }
}
