// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { DataSetMath } from "../../contracts/storage/libraries/DataSetMath.sol";
import { Versioned } from "../../contracts/storage/libraries/Versioned.sol";
import { TestBase } from "./utils/TestBase.sol";

/// @notice The payment math of data sets: exact, floor-rounded, proportional to bytes and time, no minimum; and the
///         copy-on-write word of the epoch rule.
contract DataSetMathTest is TestBase {
    uint256 internal constant DENOM = (1 << 34) * 2_592_000;

    /// @notice A concrete case: 1 TiB for a month at 2.5 tokens (6 decimals) is exactly 2.5 tokens.
    function test_earned_oneTiBMonth() public pure {
        assertEq(DataSetMath.earned(2_500_000, (uint256(1) << 34) * 2_592_000), 2_500_000, "1 TiB-month");
        test_fuzz_earned_isTheFloorOfTheExactAmount(2_500_000, 163_840 * 3600);
    }

    /// @notice earned = floor(price × leafSeconds / (2^34 × month)), to the unit.
    function test_fuzz_earned_isTheFloorOfTheExactAmount(uint128 price, uint128 leafSeconds) public pure {
        uint256 e = DataSetMath.earned(price, leafSeconds);
        assertLe(e * DENOM, uint256(price) * leafSeconds, "never above the exact amount");
        assertGe((e + 1) * DENOM, uint256(price) * leafSeconds + 1, "less than one unit below it");
    }

    /// @notice The plain-arithmetic path (operands below 2^128) returns exactly what `mulDiv` returns, and so does
    ///         every other input.
    function test_fuzz_earnedAndCost_equalMulDiv(
        uint256 price,
        uint256 leafSeconds,
        uint64 span,
        uint32 secs
    ) public pure {
        price = bound(price, 0, 1 << 150);
        leafSeconds = bound(leafSeconds, 0, 1 << 150);
        assertEq(DataSetMath.earned(price, leafSeconds), Math.mulDiv(price, leafSeconds, DENOM), "earned");
        assertEq(
            DataSetMath.cost(price, span, secs),
            Math.mulDiv(price, uint256(span) * secs, DENOM, Math.Rounding.Ceil),
            "cost"
        );
    }

    /// @notice The fast path's edges: the largest operands it takes and the smallest it leaves to `mulDiv`.
    function test_earnedAndCost_equalMulDivAtThePathEdges() public pure {
        uint256 top = type(uint128).max;
        test_fuzz_earnedAndCost_equalMulDiv(top, top, type(uint64).max, type(uint32).max);
        test_fuzz_earnedAndCost_equalMulDiv(top + 1, top, 1, 1);
        test_fuzz_earnedAndCost_equalMulDiv(DENOM, 1, 0, 0);
        test_fuzz_earnedAndCost_equalMulDiv(1, DENOM - 1, 1, 1);
    }

    /// @notice Paying in steps never pays more than paying at once (cumulative accounting: settle at any cadence).
    function test_fuzz_earned_isSuperadditiveUnderSteps(uint128 price, uint64 a, uint64 b) public pure {
        uint256 once = DataSetMath.earned(price, uint256(a) + b);
        uint256 first = DataSetMath.earned(price, a);
        assertGe(once, first, "monotone");
        // The cumulative rule pays once - first at the second step: the total is exactly `once`.
        assertEq(first + (once - first), once, "cumulative total");
        assertLe(first + DataSetMath.earned(price, b), once, "separate floors never exceed the joint floor");
    }

    /// @notice Proportional in bytes: k times the span earns k times as much, within k - 1 units of rounding.
    function test_fuzz_earned_isProportionalToSpan(
        uint96 price,
        uint32 span,
        uint32 secondsCount,
        uint8 k
    ) public pure {
        vm.assume(k > 0);
        uint256 one = DataSetMath.earned(price, uint256(span) * secondsCount);
        uint256 many = DataSetMath.earned(price, uint256(span) * k * secondsCount);
        assertGe(many, one * k, "at least k times");
        assertLe(many, one * k + k, "at most k more units");
    }

    /// @notice The lockup (rounded up) always covers what the same time earns (rounded down).
    function test_fuzz_cost_coversEarned(uint96 price, uint48 span, uint32 secondsCount) public pure {
        assertGe(
            DataSetMath.cost(price, span, secondsCount),
            DataSetMath.earned(price, uint256(span) * secondsCount),
            "cost >= earned"
        );
    }

    /// @notice Class and collateral: span fits its class, the class below does not; collateral doubles per class.
    function test_fuzz_classOf_andCollateral(uint48 span, uint96 perTiB) public pure {
        vm.assume(span > 0);
        uint256 c = DataSetMath.classOf(span);
        assertLe(span, uint256(1) << c, "span fits");
        if (c > 0) assertGe(span, (uint256(1) << (c - 1)) + 1, "the class below is too small");
        uint256 col = DataSetMath.collateral(perTiB, c);
        assertGe(col * (1 << 34), uint256(perTiB) << c, "rounded up");
        assertLe(col * (1 << 34), (uint256(perTiB) << c) + (1 << 34) - 1, "by less than a unit");
    }

    /// @notice The versioned word: writes in the frozen epoch never change what that epoch reads.
    function test_fuzz_versioned_frozenValueIgnoresWritesOfItsEpoch(
        uint64 a,
        uint64 b,
        uint64 c,
        uint32 n
    ) public pure {
        vm.assume(n > 0);
        uint256 w = Versioned.write(0, a, n - 1); // written in an earlier epoch
        assertEq(Versioned.frozen(w, n), a, "earlier write is frozen for n");
        w = Versioned.write(w, b, n);
        w = Versioned.write(w, c, n);
        assertEq(Versioned.frozen(w, n), a, "writes of epoch n apply from n + 1");
        assertEq(Versioned.current(w), c, "newest value");
        assertEq(Versioned.frozen(w, uint256(n) + 1), c, "next epoch reads the newest");
    }
}
