// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { BasisPoints } from "../../payments/libraries/BasisPoints.sol";

/// @title PaymentMath
/// @notice Pure formulas for payment streams and fault penalties (see docs/SPEC.md, "Payments" and "Faults").
///         Basis points are `BasisPoints`; a penalty is shared out by `SlashSplit`.
library PaymentMath {
    /// @notice Seconds of service the client owes for, net of faulted time.
    /// @param start Deal start timestamp.
    /// @param horizon End of the time that may be paid (min of now, deal end, proven horizon).
    /// @param faultedSeconds Seconds of the deal that were faulted (missed or declared periods).
    /// @return net Payable seconds: `max(0, max(0, horizon - start) - faultedSeconds)`.
    function netSeconds(
        uint256 start,
        uint256 horizon,
        uint256 faultedSeconds
    ) internal pure returns (uint256 net) {
        if (horizon <= start) return 0;
        // horizon > start is checked above.
        unchecked {
            uint256 elapsed = horizon - start;
            net = elapsed > faultedSeconds ? elapsed - faultedSeconds : 0;
        }
    }

    /// @notice Amount due to the provider for newly payable seconds.
    /// @param pricePerSecond Deal price.
    /// @param net Payable seconds so far.
    /// @param paid Seconds already paid.
    /// @return amount `pricePerSecond * (net - paid)`, or 0 when nothing new is payable.
    function due(uint256 pricePerSecond, uint256 net, uint256 paid) internal pure returns (uint256 amount) {
        if (net <= paid) return 0;
        amount = pricePerSecond * (net - paid);
    }

    /// @notice Collateral forfeited to the client for a deal's faults, capped at the collateral.
    /// @param collateral The deal's collateral.
    /// @param missed Missed periods charged to the deal.
    /// @param declared Declared faults of the deal.
    /// @param missedBps Penalty per missed period, in basis points of the collateral.
    /// @param declaredBps Penalty per declared fault, in basis points of the collateral.
    /// @return penalty `min(collateral, collateral * (missed * missedBps + declared * declaredBps) / 10_000)`.
    function faultPenalty(
        uint256 collateral,
        uint256 missed,
        uint256 declared,
        uint256 missedBps,
        uint256 declaredBps
    ) internal pure returns (uint256 penalty) {
        uint256 bps = missed * missedBps + declared * declaredBps;
        if (bps >= BasisPoints.BPS) return collateral;
        penalty = Math.mulDiv(collateral, bps, BasisPoints.BPS);
    }
}
