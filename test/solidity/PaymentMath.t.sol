// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "./utils/TestBase.sol";
import { PaymentMathHarness } from "./utils/PaymentMathHarness.sol";

/// @notice Properties of the payment-stream and penalty formulas (PaymentMath).
contract PaymentMathTest is TestBase {
    uint256 internal constant BPS = 10_000;
    /// @dev Largest penalty rate governance can set (StorageParams.MAX_MISSED_PENALTY_BPS).
    uint256 internal constant MAX_MISSED_BPS = 5_000;

    PaymentMathHarness internal math;

    function setUp() public {
        math = new PaymentMathHarness();
    }

    // ------------------------------------------------------------------ netSeconds

    /// @notice net = max(0, max(0, horizon - start) - faulted), and it never exceeds the elapsed time.
    function test_fuzz_netSecondsIsElapsedMinusFaults(
        uint256 start,
        uint256 horizon,
        uint256 faulted
    ) public view {
        uint256 net = math.netSeconds(start, horizon, faulted);
        if (horizon <= start) {
            assertEq(net, 0, "no time elapsed");
            return;
        }
        uint256 elapsed = horizon - start;
        assertEq(net, elapsed > faulted ? elapsed - faulted : 0, "net");
        assertLe(net, elapsed, "net <= elapsed");
    }

    function test_netSecondsIsElapsedMinusFaults() public view {
        test_fuzz_netSecondsIsElapsedMinusFaults(1_000, 1_000 + 7_200, 3_600);
        test_fuzz_netSecondsIsElapsedMinusFaults(1_000, 1_000 + 3_600, 7_200);
        test_fuzz_netSecondsIsElapsedMinusFaults(5_000, 4_000, 0);
        test_fuzz_netSecondsIsElapsedMinusFaults(0, type(uint256).max, 0);
    }

    /// @notice More elapsed time never lowers net seconds; more faulted time never raises them.
    function test_fuzz_netSecondsIsMonotone(
        uint256 start,
        uint256 horizon,
        uint256 later,
        uint256 faulted,
        uint256 moreFaulted
    ) public view {
        start = bound(start, 0, type(uint64).max);
        horizon = bound(horizon, 0, type(uint64).max);
        later = bound(later, horizon, type(uint64).max);
        faulted = bound(faulted, 0, type(uint64).max);
        moreFaulted = bound(moreFaulted, faulted, type(uint64).max);
        uint256 net = math.netSeconds(start, horizon, faulted);
        assertGe(math.netSeconds(start, later, faulted), net, "monotone in horizon");
        assertLe(math.netSeconds(start, horizon, moreFaulted), net, "antitone in faulted time");
    }

    function test_netSecondsIsMonotone() public view {
        test_fuzz_netSecondsIsMonotone(3_600, 10_800, 14_400, 3_600, 7_200);
    }

    // ------------------------------------------------------------------ due

    /// @notice due == price * (net - paid) when net > paid, else 0.
    function test_fuzz_dueIsPriceTimesNewSeconds(uint128 price, uint32 net, uint32 paid) public view {
        uint256 amount = math.due(price, net, paid);
        if (net <= paid) assertEq(amount, 0, "nothing new");
        else assertEq(amount, uint256(price) * (uint256(net) - paid), "price * new seconds");
    }

    function test_dueIsPriceTimesNewSeconds() public view {
        test_fuzz_dueIsPriceTimesNewSeconds(10, 7_200, 3_600);
        test_fuzz_dueIsPriceTimesNewSeconds(10, 3_600, 3_600);
        test_fuzz_dueIsPriceTimesNewSeconds(10, 3_599, 3_600);
        test_fuzz_dueIsPriceTimesNewSeconds(type(uint128).max, type(uint32).max, 0);
    }

    /// @notice Settling in two steps pays exactly what settling once pays (no rounding drift).
    function test_fuzz_dueIsAdditive(uint128 price, uint32 a, uint32 b, uint32 c) public view {
        uint256 paid = bound(a, 0, type(uint32).max);
        uint256 mid = bound(b, paid, type(uint32).max);
        uint256 net = bound(c, mid, type(uint32).max);
        assertEq(
            math.due(price, mid, paid) + math.due(price, net, mid),
            math.due(price, net, paid),
            "two settlements == one"
        );
    }

    function test_dueIsAdditive() public view {
        test_fuzz_dueIsAdditive(7, 100, 3_700, 10_000);
    }

    // ------------------------------------------------------------------ faultPenalty

    /// @notice penalty == min(collateral, collateral * (missed*missedBps + declared*declaredBps) / 1e4).
    function test_fuzz_faultPenaltyFormula(
        uint128 collateral,
        uint16 missed,
        uint16 declared,
        uint256 missedBps,
        uint256 declaredBps
    ) public view {
        missedBps = bound(missedBps, 0, MAX_MISSED_BPS);
        declaredBps = bound(declaredBps, 0, missedBps);
        uint256 penalty = math.faultPenalty(collateral, missed, declared, missedBps, declaredBps);
        uint256 bps = uint256(missed) * missedBps + uint256(declared) * declaredBps;
        uint256 expected = bps >= BPS ? collateral : (uint256(collateral) * bps) / BPS;
        assertEq(penalty, expected, "penalty");
        assertLe(penalty, collateral, "penalty <= collateral");
        if (missed == 0 && declared == 0) assertEq(penalty, 0, "no faults, no penalty");
    }

    function test_faultPenaltyFormula() public view {
        test_fuzz_faultPenaltyFormula(100e6, 1, 0, 1_000, 500); // 10 %
        test_fuzz_faultPenaltyFormula(100e6, 2, 3, 1_000, 500); // 35 %
        test_fuzz_faultPenaltyFormula(100e6, 9, 3, 1_000, 500); // capped
        test_fuzz_faultPenaltyFormula(333, 1, 1, 1_234, 567); // rounds down
        test_fuzz_faultPenaltyFormula(type(uint128).max, 1, 0, 1, 0);
    }

    /// @notice One more fault (of either kind) never lowers the penalty, and a declared fault never costs
    ///         more than a missed one when declaredBps <= missedBps (a parameter bound).
    function test_fuzz_faultPenaltyMonotoneInFaults(
        uint128 collateral,
        uint16 missed,
        uint16 declared,
        uint16 extraMissed,
        uint16 extraDeclared,
        uint256 missedBps,
        uint256 declaredBps
    ) public view {
        missedBps = bound(missedBps, 0, MAX_MISSED_BPS);
        declaredBps = bound(declaredBps, 0, missedBps);
        uint256 base = math.faultPenalty(collateral, missed, declared, missedBps, declaredBps);
        uint256 more = math.faultPenalty(
            collateral,
            uint256(missed) + extraMissed,
            uint256(declared) + extraDeclared,
            missedBps,
            declaredBps
        );
        assertGe(more, base, "monotone in faults");
        uint256 oneMoreDeclared = math.faultPenalty(
            collateral,
            missed,
            uint256(declared) + 1,
            missedBps,
            declaredBps
        );
        uint256 oneMoreMissed = math.faultPenalty(
            collateral,
            uint256(missed) + 1,
            declared,
            missedBps,
            declaredBps
        );
        assertGe(oneMoreDeclared, base, "declared fault adds");
        assertGe(oneMoreMissed, oneMoreDeclared, "declared <= missed");
    }

    function test_faultPenaltyMonotoneInFaults() public view {
        test_fuzz_faultPenaltyMonotoneInFaults(100e6, 1, 1, 2, 3, 1_000, 500);
        test_fuzz_faultPenaltyMonotoneInFaults(1, 0, 0, 0, 1, 5_000, 5_000);
    }

    // ------------------------------------------------------------------ split

    /// @notice The three parts always add up to the amount, and the rounded-down shares are the formula's.
    function test_fuzz_splitPartsSumToAmount(
        uint256 amount,
        uint256 treasuryBps,
        uint256 bountyBps
    ) public view {
        treasuryBps = bound(treasuryBps, 0, BPS);
        bountyBps = bound(bountyBps, 0, BPS - treasuryBps);
        (uint256 toTreasury, uint256 toReporter, uint256 toHarmed) = math.split(
            amount,
            treasuryBps,
            bountyBps
        );
        assertEq(toTreasury + toReporter + toHarmed, amount, "parts sum to amount");
        if (amount <= type(uint128).max) {
            assertEq(toTreasury, (amount * treasuryBps) / BPS, "treasury share");
            assertEq(toReporter, (amount * bountyBps) / BPS, "reporter share");
        }
        assertLe(toTreasury, amount, "treasury <= amount");
        assertLe(toReporter, amount, "reporter <= amount");
        if (treasuryBps + bountyBps == 0) assertEq(toHarmed, amount, "all to the harmed party");
    }

    function test_splitPartsSumToAmount() public view {
        test_fuzz_splitPartsSumToAmount(100e6, 1_000, 1_000); // 10 / 10 / 80
        test_fuzz_splitPartsSumToAmount(999, 3_333, 3_333); // rounding goes to the harmed party
        test_fuzz_splitPartsSumToAmount(type(uint256).max, 5_000, 2_000);
        test_fuzz_splitPartsSumToAmount(7, 0, 0);
        test_fuzz_splitPartsSumToAmount(12_345, 10_000, 0);
    }
}
