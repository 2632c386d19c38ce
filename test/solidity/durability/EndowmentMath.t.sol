// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { EndowmentMath } from "../../../contracts/durability/libraries/EndowmentMath.sol";
import { TestBase } from "../utils/TestBase.sol";

/// @notice Properties of the pay-once schedule (docs/SPEC.md §16.2).
contract EndowmentMathTest is TestBase {
    /// @notice Concrete anchor: 0.5% a year over 200 years sums to (1 − 0.995^200) / 0.005 ≈ 126.6 years of today's cost.
    function test_series_arweaveAssumption() public pure {
        uint256 s = EndowmentMath.series(50, 200);
        assertGe(s, 126.6e18, "S(200) at 0.5%");
        assertLe(s, 126.7e18, "S(200) at 0.5%");
        assertEq(EndowmentMath.series(0, 200), 200e18, "no decline");
        test_fuzz_released_monotoneBoundedAndCoversTheAssumedCost(1e6, 50, 200, 17, 0);
    }

    /// @notice The release never decreases, never exceeds the principal, reaches it at the horizon, and by every
    ///         year covers that many years of the assumed (declining) cost.
    function test_fuzz_released_monotoneBoundedAndCoversTheAssumedCost(
        uint256 yearCost,
        uint256 declineBps,
        uint256 horizon,
        uint256 year,
        uint256 allowanceBps
    ) public pure {
        yearCost = bound(yearCost, 1, 1e30);
        declineBps = bound(declineBps, 0, 1_000);
        horizon = bound(horizon, 1, 500);
        year = bound(year, 0, horizon + 5);
        allowanceBps = bound(allowanceBps, 0, 10_000);
        uint256 principal = EndowmentMath.principalFor(yearCost, declineBps, horizon, allowanceBps);
        uint256 rel = EndowmentMath.released(principal, declineBps, horizon, year);
        uint256 next = EndowmentMath.released(principal, declineBps, horizon, year + 1);
        assertLe(rel, next, "monotone");
        assertLe(next, principal, "bounded by the principal");
        if (year + 2 >= horizon) assertEq(rel, principal, "whole principal at the horizon");
        // Years 0..year of the assumed cost, yearCost × S(year + 1), are released by `year` (one unit of rounding
        // per WAD step at most).
        uint256 covered = year + 1 >= horizon ? horizon : year + 1;
        uint256 assumed = (yearCost * EndowmentMath.series(declineBps, covered)) / EndowmentMath.WAD;
        assertGe(rel + covered + 1, assumed, "covers the assumed cost");
    }

    /// @notice `decay` never increases with the exponent and stays in (0, 1] for a decline up to 10%.
    function test_fuzz_decay_nonIncreasing(uint256 declineBps, uint256 n) public pure {
        declineBps = bound(declineBps, 0, 1_000);
        n = bound(n, 0, 1_000);
        uint256 a = EndowmentMath.decay(declineBps, n);
        uint256 b = EndowmentMath.decay(declineBps, n + 1);
        assertLe(b, a, "non-increasing");
        assertLe(a, EndowmentMath.WAD, "at most one");
    }
}
