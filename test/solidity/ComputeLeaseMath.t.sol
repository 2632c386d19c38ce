// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { LeaseMath } from "../../contracts/compute/libraries/LeaseMath.sol";
import { TestBase } from "./utils/TestBase.sol";

/// @notice Properties of the lease stream formulas (LeaseMath): what is payable, what a settlement pays, what a
///         missed-heartbeat report covers, and how penalties split.
contract ComputeLeaseMathTest is TestBase {
    uint256 internal constant T0 = 1_700_000_000;
    uint256 internal constant MAX_SPAN = 50 * 365 days;

    /// @dev A stream with bounded, internally consistent fields (as the market keeps them).
    function _stream(
        uint256 period,
        uint256 nextPeriod,
        uint256 elapsed,
        uint256 price,
        uint256 escrow,
        uint256 endOffset
    ) internal pure returns (LeaseMath.Stream memory s, uint256 nowTs) {
        s.start = T0;
        s.period = bound(period, 60, 1 days);
        elapsed = bound(elapsed, 0, MAX_SPAN);
        nowTs = T0 + elapsed;
        // Resolved periods end at most one period after now (a heartbeat resolves the current period).
        s.nextPeriod = bound(nextPeriod, 0, elapsed / s.period + 1);
        s.pricePerSecond = bound(price, 1, type(uint96).max);
        s.escrow = bound(escrow, 0, type(uint128).max);
        s.endsAt = endOffset == 0 ? 0 : T0 + bound(endOffset, 1, MAX_SPAN);
    }

    // ------------------------------------------------------------------ settlement

    /// @notice A settlement never pays more than the escrow, pays whole seconds, and pays everything payable
    ///         unless it reports an overdraft.
    function test_fuzz_settlementIsCappedByTheEscrow(
        uint256 period,
        uint256 nextPeriod,
        uint256 elapsed,
        uint256 price,
        uint256 escrow,
        uint256 endOffset,
        uint256 paid
    ) public pure {
        (LeaseMath.Stream memory s, uint256 nowTs) = _stream(
            period,
            nextPeriod,
            elapsed,
            price,
            escrow,
            endOffset
        );
        uint256 live = LeaseMath.liveSeconds(s, nowTs);
        s.paidSeconds = bound(paid, 0, live);
        (uint256 secs, uint256 amount, bool overdrawn) = LeaseMath.settlement(s, nowTs);
        assertLe(amount, s.escrow, "amount <= escrow");
        assertEq(amount, secs * s.pricePerSecond, "whole seconds at the price");
        assertLe(s.paidSeconds + secs, live, "never pays beyond the payable seconds");
        if (overdrawn) {
            assertTrue(s.paidSeconds + secs < live, "an overdraft leaves payable seconds unpaid");
            assertLe(s.escrow - amount, s.pricePerSecond - 1, "an overdraft pays the escrow down to dust");
        } else {
            assertEq(s.paidSeconds + secs, live, "without an overdraft everything payable is paid");
        }
    }

    function test_settlementIsCappedByTheEscrow() public pure {
        test_fuzz_settlementIsCappedByTheEscrow(60, 2, 90, 80, 10 * 80, 0, 0);
        test_fuzz_settlementIsCappedByTheEscrow(60, 2, 90, 80, 100 * 80, 0, 30);
        test_fuzz_settlementIsCappedByTheEscrow(60, 5, 250, 7, 1e12, 100, 0);
    }

    /// @notice Payable time never exceeds now, the lease's end or the resolved horizon, and grows with time.
    function test_fuzz_liveSecondsAreBoundedAndMonotone(
        uint256 period,
        uint256 nextPeriod,
        uint256 elapsed,
        uint256 endOffset,
        uint256 missed,
        uint256 later
    ) public pure {
        (LeaseMath.Stream memory s, uint256 nowTs) = _stream(period, nextPeriod, elapsed, 1, 0, endOffset);
        uint256 horizon = LeaseMath.payableHorizon(s, nowTs);
        s.missedSeconds = bound(missed, 0, horizon > s.start ? horizon - s.start : 0);
        uint256 live = LeaseMath.liveSeconds(s, nowTs);
        assertLe(s.start + live + s.missedSeconds, nowTs, "payable + missed <= elapsed");
        assertLe(s.start + live, s.start + s.nextPeriod * s.period, "payable <= resolved horizon");
        if (s.endsAt != 0) assertLe(s.start + live + s.missedSeconds, s.endsAt, "payable + missed <= end");
        uint256 nowLater = nowTs + bound(later, 0, MAX_SPAN);
        assertGe(LeaseMath.liveSeconds(s, nowLater), live, "monotone in time");
    }

    function test_liveSecondsAreBoundedAndMonotone() public pure {
        test_fuzz_liveSecondsAreBoundedAndMonotone(60, 1, 30, 0, 0, 100);
        test_fuzz_liveSecondsAreBoundedAndMonotone(60, 3, 200, 150, 60, 1);
    }

    // ------------------------------------------------------------------ missed heartbeats

    /// @notice A report covers exactly the closed unresolved periods inside the lease, and their seconds; after
    ///         it, payable time is unchanged (missed time is never paid, nor is paid time taken back).
    function test_fuzz_missedWindowCoversClosedPeriodsInsideTheLease(
        uint256 period,
        uint256 nextPeriod,
        uint256 elapsed,
        uint256 endOffset,
        uint256 missed
    ) public pure {
        (LeaseMath.Stream memory s, uint256 nowTs) = _stream(period, nextPeriod, elapsed, 1, 0, endOffset);
        uint256 horizon = LeaseMath.payableHorizon(s, nowTs);
        s.missedSeconds = bound(missed, 0, horizon > s.start ? horizon - s.start : 0);
        uint256 liveBefore = LeaseMath.liveSeconds(s, nowTs);
        (uint256 upTo, uint256 count, uint256 secs) = LeaseMath.missedWindow(s, nowTs);
        uint256 current = (nowTs - s.start) / s.period;
        if (count == 0) {
            assertEq(upTo, s.nextPeriod, "nothing to report leaves the cursor");
            assertEq(secs, 0, "no seconds");
            return;
        }
        assertEq(upTo - count, s.nextPeriod, "starts at the first unresolved period");
        assertLe(upTo, current, "only closed periods");
        assertLe(secs, count * s.period, "at most the periods' length");
        if (s.endsAt == 0) assertEq(secs, count * s.period, "whole periods of an open-ended lease");
        else assertLe(s.start + s.nextPeriod * s.period + secs, s.endsAt, "never past the end");
        assertTrue(secs > 0, "a reported period holds lease time");
        s.nextPeriod = upTo;
        s.missedSeconds += secs;
        assertEq(LeaseMath.liveSeconds(s, nowTs), liveBefore, "a report never changes payable time");
    }

    function test_missedWindowCoversClosedPeriodsInsideTheLease() public pure {
        test_fuzz_missedWindowCoversClosedPeriodsInsideTheLease(60, 1, 600, 0, 0);
        // A lease of 150 s: periods 1 and 2 missed, period 2 holds only 30 s of it.
        test_fuzz_missedWindowCoversClosedPeriodsInsideTheLease(60, 1, 600, 150, 0);
        (uint256 upTo, uint256 count, uint256 secs) = LeaseMath.missedWindow(
            LeaseMath.Stream({
                start: T0,
                endsAt: T0 + 150,
                period: 60,
                nextPeriod: 1,
                paidSeconds: 0,
                missedSeconds: 0,
                pricePerSecond: 1,
                escrow: 0
            }),
            T0 + 600
        );
        assertEq(upTo, 3, "upTo");
        assertEq(count, 2, "count");
        assertEq(secs, 90, "seconds");
    }

    // ------------------------------------------------------------------ funding and penalties

    /// @notice The funded horizon is when the escrow stops paying if every period from now is heartbeated.
    function test_fuzz_fundedUntilIsWhenTheEscrowRunsOut(
        uint256 period,
        uint256 price,
        uint256 escrow,
        uint256 paid,
        uint256 missed
    ) public pure {
        (LeaseMath.Stream memory s, ) = _stream(period, 0, 0, price, escrow, 0);
        s.paidSeconds = bound(paid, 0, MAX_SPAN);
        s.missedSeconds = bound(missed, 0, MAX_SPAN);
        uint256 until = LeaseMath.fundedUntil(s);
        if (until > type(uint64).max) return;
        // Heartbeat everything up to `until`: settling then pays exactly the escrow down to dust.
        s.nextPeriod = (until - s.start) / s.period + 1;
        if (until < s.start + s.paidSeconds + s.missedSeconds) return;
        (, uint256 amount, bool overdrawn) = LeaseMath.settlement(s, until);
        assertTrue(!overdrawn, "funded until then");
        assertEq(amount, (s.escrow / s.pricePerSecond) * s.pricePerSecond, "pays the whole escrow");
        (, , overdrawn) = LeaseMath.settlement(s, until + 1);
        assertTrue(overdrawn, "overdrawn one second later");
    }

    function test_fundedUntilIsWhenTheEscrowRunsOut() public pure {
        test_fuzz_fundedUntilIsWhenTheEscrowRunsOut(60, 80, 8_000, 0, 0);
        test_fuzz_fundedUntilIsWhenTheEscrowRunsOut(60, 80, 8_079, 10, 60);
    }

    /// @notice A penalty never exceeds the collateral and its two shares always add up to it.
    function test_fuzz_penaltySharesAddUp(uint256 collateral, uint256 bps, uint256 treasuryBps) public pure {
        collateral = bound(collateral, 0, type(uint96).max);
        bps = bound(bps, 0, 10_000);
        treasuryBps = bound(treasuryBps, 0, 5_000);
        (uint256 amount, uint256 toTreasury, uint256 toTenant) = LeaseMath.penalty(
            collateral,
            bps,
            treasuryBps
        );
        assertLe(amount, collateral, "penalty <= collateral");
        assertEq(toTreasury + toTenant, amount, "shares add up");
        assertEq(amount, (collateral * bps) / 10_000, "bps of the collateral");
        if (bps == 10_000) assertEq(amount, collateral, "a full penalty takes everything");
    }

    function test_penaltySharesAddUp() public pure {
        test_fuzz_penaltySharesAddUp(50e6, 5_000, 1_000);
        test_fuzz_penaltySharesAddUp(3, 10_000, 5_000);
    }
}
