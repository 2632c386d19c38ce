// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title EndowmentMath
/// @notice The pay-once arithmetic of permanent storage (docs/SPEC.md §16.2), mirrored in
///         offchain/durability/endowment.ts: storage costs fall by a fixed fraction `d` a year, so a year `y` from
///         now costs `q^y` of today's with `q = 1 − d`; a file's principal is today's yearly cost times
///         `S(H) = Σ_{y<H} q^y` (plus a repair allowance), and by its year `Y` the file may have spent at most
///         `principal × S(Y + 2) / S(H)`: each year's share is released a year ahead, so a year with more repairs than
///         average draws on the next year's share instead of starving.
library EndowmentMath {
    /// @notice Fixed-point one.
    uint256 internal constant WAD = 1e18;
    /// @notice Basis points in one.
    uint256 internal constant BPS = 10_000;
    /// @notice Seconds in a year of the schedule (365 days).
    uint256 internal constant YEAR = 365 days;

    /// @notice `q^yearCount` in WAD, `q = 1 − declineBps / 10,000` (repeated squaring, rounded down at each step).
    /// @param declineBps Yearly cost decline (< 10,000).
    /// @param yearCount Exponent.
    /// @return The factor in WAD.
    function decay(uint256 declineBps, uint256 yearCount) internal pure returns (uint256) {
        uint256 base = WAD - (declineBps * WAD) / BPS;
        uint256 result = WAD;
        while (yearCount != 0) {
            if (yearCount & 1 == 1) result = (result * base) / WAD;
            base = (base * base) / WAD;
            yearCount >>= 1;
        }
        return result;
    }

    /// @notice `S(yearCount) = Σ_{i<yearCount} q^i` in WAD (the closed form `(1 − q^yearCount) / (1 − q)`; `yearCount` when d = 0).
    /// @param declineBps Yearly cost decline (< 10,000).
    /// @param yearCount Number of terms.
    /// @return The sum in WAD.
    function series(uint256 declineBps, uint256 yearCount) internal pure returns (uint256) {
        if (declineBps == 0) return yearCount * WAD;
        return Math.mulDiv(WAD - decay(declineBps, yearCount), BPS, declineBps);
    }

    /// @notice Principal of a file whose storage costs `yearCost` today: `yearCost × S(H) × (1 + allowance)`,
    ///         rounded up.
    /// @param yearCost Today's cost of one year of all the file's pieces.
    /// @param declineBps Yearly cost decline.
    /// @param horizonYears Horizon H.
    /// @param repairAllowanceBps Share added for repairs (rewards and escrow lost with churned providers).
    /// @return The principal.
    function principalFor(
        uint256 yearCost,
        uint256 declineBps,
        uint256 horizonYears,
        uint256 repairAllowanceBps
    ) internal pure returns (uint256) {
        uint256 storageCost = Math.mulDiv(
            yearCost,
            series(declineBps, horizonYears),
            WAD,
            Math.Rounding.Ceil
        );
        return storageCost + Math.mulDiv(storageCost, repairAllowanceBps, BPS, Math.Rounding.Ceil);
    }

    /// @notice What a file may have spent by its year `yearIndex` (0-based): `principal × S(min(H, Y+2)) / S(H)`,
    ///         rounded down (this year's and next year's shares); the whole principal from year H − 2 on.
    /// @param principal The file's principal.
    /// @param declineBps Yearly cost decline.
    /// @param horizonYears Horizon H (> 0).
    /// @param yearIndex Years since the file was stored.
    /// @return The released amount.
    function released(
        uint256 principal,
        uint256 declineBps,
        uint256 horizonYears,
        uint256 yearIndex
    ) internal pure returns (uint256) {
        if (yearIndex + 2 >= horizonYears) return principal;
        return Math.mulDiv(principal, series(declineBps, yearIndex + 2), series(declineBps, horizonYears));
    }
}
