// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title BasisPoints
/// @notice The one basis-point denominator of the protocol and the share formula every fee, penalty, bounty
///         and treasury cut uses: `Math.mulDiv(amount, bps, BPS)`, full precision, rounded down (see docs/SPEC.md,
///         "Penalties and termination for faults").
/// @dev The hot paths (`SlashSplit`, `PaymentMath.faultPenalty`, `DealAccounting.closing`, `LeaseMath.penalty`)
///      write the formula out as `Math.mulDiv(x, bps, BasisPoints.BPS)` instead of calling `share`: measured with
///      `npm run bench:gas`, the extra call level changes the optimizer's inlining and costs 16-119 gas per
///      settlement, ending or slashed close. test/solidity/BasisPoints.t.sol checks them against `share`.
library BasisPoints {
    /// @notice Basis points in a whole: 10_000 bps = 100 %.
    uint256 internal constant BPS = 10_000;

    /// @notice `bps` basis points of `amount`, rounded down.
    /// @dev Full-precision `amount * bps / BPS` (no intermediate overflow for any `amount`). Rounding down means
    ///      a share never exceeds its exact value, so shares of one amount never add up to more than the amount.
    /// @param amount The whole.
    /// @param bps The share in basis points (callers keep it <= BPS where the share must not exceed the whole).
    /// @return The share.
    function share(uint256 amount, uint256 bps) internal pure returns (uint256) {
        return Math.mulDiv(amount, bps, BPS);
    }
}
