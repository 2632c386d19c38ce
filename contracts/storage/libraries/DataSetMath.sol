// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { BasisPoints } from "../../payments/libraries/BasisPoints.sol";

/// @title DataSetMath
/// @notice Exact prices of data sets (docs/SPEC.md, "Payments"): a price per TiB (2^40 bytes) per month
///         (2,592,000 s) applied to `span` 64-byte leaves, accumulated as leaf-seconds and rounded only when
///         money moves (floor to the provider, the remainder stays the client's). Collateral by class capacity.
library DataSetMath {
    /// @notice Seconds in a pricing month.
    uint256 internal constant MONTH = 2_592_000;
    /// @notice `2^40 bytes / 64 bytes per leaf`: leaves in a TiB.
    uint256 internal constant LEAVES_PER_TIB = 1 << 34;

    /// @notice Tokens earned by `leafSeconds` at `pricePerTiBMonth`, rounded down.
    /// @param pricePerTiBMonth The price.
    /// @param leafSeconds Leaf-seconds accounted.
    /// @return The tokens.
    function earned(uint256 pricePerTiBMonth, uint256 leafSeconds) internal pure returns (uint256) {
        // Both below 2^128 (a stored price and leaf-second count): the product fits in a word, so the plain quotient
        // is the exact floor `mulDiv` would return, without its 512-bit path.
        if ((pricePerTiBMonth | leafSeconds) >> 128 == 0) {
            unchecked {
                return (pricePerTiBMonth * leafSeconds) / (LEAVES_PER_TIB * MONTH);
            }
        }
        return Math.mulDiv(pricePerTiBMonth, leafSeconds, LEAVES_PER_TIB * MONTH);
    }

    /// @notice Tokens `span` leaves cost over `secondsCount` seconds, rounded up (a lockup the client must hold).
    /// @param pricePerTiBMonth The price.
    /// @param span The span (leaves).
    /// @param secondsCount The duration.
    /// @return The tokens.
    function cost(
        uint256 pricePerTiBMonth,
        uint256 span,
        uint256 secondsCount
    ) internal pure returns (uint256) {
        uint256 leafSeconds = span * secondsCount;
        // As in `earned`: operands below 2^128 cannot overflow a word, so the plain ceiling is exact.
        if ((pricePerTiBMonth | leafSeconds) >> 128 == 0) {
            unchecked {
                uint256 product = pricePerTiBMonth * leafSeconds;
                uint256 q = product / (LEAVES_PER_TIB * MONTH);
                return product % (LEAVES_PER_TIB * MONTH) == 0 ? q : q + 1;
            }
        }
        return Math.mulDiv(pricePerTiBMonth, leafSeconds, LEAVES_PER_TIB * MONTH, Math.Rounding.Ceil);
    }

    /// @notice Collateral for a data set of class `c` (capacity 2^c leaves), rounded up.
    /// @param collateralPerTiB The collateral rate.
    /// @param c The size class.
    /// @return The tokens.
    function collateral(uint256 collateralPerTiB, uint256 c) internal pure returns (uint256) {
        return Math.mulDiv(collateralPerTiB, uint256(1) << c, LEAVES_PER_TIB, Math.Rounding.Ceil);
    }

    /// @notice Size class of a span: `ceil(log2(span))` (0 for span 1). `span` must be > 0.
    /// @param span The span (> 0).
    /// @return The class.
    function classOf(uint256 span) internal pure returns (uint256) {
        return Math.log2(span, Math.Rounding.Ceil);
    }

    /// @notice Collateral forfeited for faults, capped at the collateral.
    /// @param collateralAmount The collateral.
    /// @param missed Missed periods charged.
    /// @param declared Declared periods charged.
    /// @param missedBps Penalty per missed period.
    /// @param declaredBps Penalty per declared period.
    /// @return The penalty.
    function faultPenalty(
        uint256 collateralAmount,
        uint256 missed,
        uint256 declared,
        uint256 missedBps,
        uint256 declaredBps
    ) internal pure returns (uint256) {
        uint256 bps = missed * missedBps + declared * declaredBps;
        if (bps >= BasisPoints.BPS) return collateralAmount;
        return BasisPoints.share(collateralAmount, bps);
    }
}
