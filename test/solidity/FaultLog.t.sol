// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { FaultLog } from "../../contracts/storage/libraries/FaultLog.sol";
import { TestBase } from "./utils/TestBase.sol";
import { FaultLogHarness } from "./utils/FaultLogHarness.sol";

/// @notice FaultLog answers missedThrough / missedBetween exactly like a naive bitmap of missed periods.
contract FaultLogTest is TestBase {
    /// @dev Periods covered by the reference bitmap, relative to the fuzzed base period.
    uint256 internal constant SPAN = 320;
    uint256 internal constant MAX_RUNS = 24;
    uint256 internal constant MAX_GAP = 4;
    uint256 internal constant MAX_LENGTH = 6;

    FaultLogHarness internal log;

    function setUp() public {
        log = new FaultLogHarness();
    }

    /// @notice An empty log has missed nothing.
    function test_emptyLogHasNoMissedPeriods() public view {
        assertEq(log.missedThrough(0), 0, "through 0");
        assertEq(log.missedThrough(type(uint32).max), 0, "through max");
        assertEq(log.missedBetween(0, type(uint32).max), 0, "between");
        assertEq(log.runCount(), 0, "runs");
    }

    /// @notice Record random increasing runs (gap 0 = adjacent to the previous run, which must merge into it)
    ///         and compare every kind of query against a bitmap.
    function test_fuzz_matchesBitmapReference(uint256 seed, uint256 base) public {
        base = bound(base, 0, uint256(type(uint32).max) - SPAN);
        log = new FaultLogHarness();
        (bool[] memory missed, uint256 total) = _recordRandomRuns(seed, base);
        _checkRunsConsistent(base, missed);
        uint256[] memory prefix = _prefix(missed);
        assertEq(prefix[SPAN], total, "bitmap total");

        for (uint256 q = 0; q < 48; ++q) {
            uint256 r = rand(seed ^ 0xabcdef, q);
            uint256 through = r % SPAN;
            assertEq(log.missedThrough(base + through), prefix[through + 1], "missedThrough");
            uint256 from = (r >> 16) % (SPAN + 1);
            uint256 to = (r >> 32) % (SPAN + 1);
            uint256 expected = to > from ? prefix[to] - prefix[from] : 0;
            assertEq(log.missedBetween(base + from, base + to), expected, "missedBetween");
        }
        if (base > 0) {
            assertEq(log.missedThrough(base - 1), 0, "before the first run");
            assertEq(log.missedBetween(0, base), 0, "between 0 and the first run");
        }
        assertEq(log.missedBetween(0, base + SPAN), total, "everything from period 0");
        assertEq(log.missedBetween(base + SPAN, base), 0, "empty range");
    }

    function test_matchesBitmapReference() public {
        test_fuzz_matchesBitmapReference(12, 0);
        test_fuzz_matchesBitmapReference(23, 1_000);
    }

    /// @notice The hinted lookups (used by settleDealWithHint) give the bitmap's answer whatever the hint: the
    ///         right one (number of runs starting at or before the period), an off-by-one, an arbitrary one, or
    ///         "unknown" (type(uint256).max).
    function test_fuzz_hintedLookupsMatchBitmap(uint256 seed, uint256 base) public {
        base = bound(base, 0, uint256(type(uint32).max) - SPAN);
        log = new FaultLogHarness();
        (bool[] memory missed, ) = _recordRandomRuns(seed, base);
        uint256[] memory prefix = _prefix(missed);
        uint32[] memory starts = _runStarts();
        for (uint256 q = 0; q < 48; ++q) {
            uint256 r = rand(seed ^ 0x5eed, q);
            uint256 through = r % SPAN;
            uint256 hint = _hint(starts, base + through, r >> 8);
            assertEq(
                log.missedThroughHinted(base + through, hint),
                prefix[through + 1],
                "missedThroughHinted"
            );
            uint256 from = (r >> 24) % (SPAN + 1);
            uint256 to = (r >> 40) % (SPAN + 1);
            uint256 expected = to > from ? prefix[to] - prefix[from] : 0;
            // The hint of missedBetweenHinted is for from - 1.
            hint = from + base == 0 ? r : _hint(starts, base + from - 1, r >> 56);
            assertEq(log.missedBetweenHinted(base + from, base + to, hint), expected, "missedBetweenHinted");
        }
    }

    function test_hintedLookupsMatchBitmap() public {
        test_fuzz_hintedLookupsMatchBitmap(7, 0);
        test_fuzz_hintedLookupsMatchBitmap(8, 77);
    }

    /// @notice A concrete log: runs [2,4), [4,5) merge; [7,10) separate; [20,21) separate.
    function test_mergesAdjacentRunsAndCountsRanges() public {
        log.record(2, 2);
        log.record(4, 1);
        log.record(7, 3);
        log.record(20, 1);
        assertEq(log.runCount(), 3, "runs");
        FaultLog.Run memory r = log.runAt(1);
        assertEq(r.start, 7, "run 1 start");
        assertEq(r.length, 3, "run 1 length");
        assertEq(r.missedBefore, 3, "run 1 missedBefore");
        assertEq(log.missedThrough(1), 0, "through 1");
        assertEq(log.missedThrough(4), 3, "through 4");
        assertEq(log.missedThrough(8), 5, "through 8");
        assertEq(log.missedThrough(19), 6, "through 19");
        assertEq(log.missedThrough(20), 7, "through 20");
        assertEq(log.missedBetween(3, 8), 3, "[3, 8)");
        assertEq(log.missedBetween(5, 7), 0, "[5, 7)");
        assertEq(log.missedBetween(8, 8), 0, "[8, 8)");
    }

    /// @dev Record 1..MAX_RUNS random runs from `base`; gap 0 makes a run adjacent to the previous one, which
    ///      must merge into it. Returns the bitmap of missed periods (relative to `base`) and their number.
    function _recordRandomRuns(
        uint256 seed,
        uint256 base
    ) internal returns (bool[] memory missed, uint256 total) {
        missed = new bool[](SPAN);
        uint256 runs = 1 + (seed % MAX_RUNS);
        uint256 cursor; // first period (relative) after the last recorded run
        uint256 expectedRuns;
        for (uint256 k = 0; k < runs; ++k) {
            uint256 r = rand(seed, k);
            uint256 gap = r % (MAX_GAP + 1);
            uint256 length = 1 + ((r >> 8) % MAX_LENGTH);
            uint256 start = cursor + gap;
            if (k == 0 || gap != 0) ++expectedRuns;
            log.record(uint32(base + start), uint32(length));
            for (uint256 p = start; p < start + length; ++p) missed[p] = true;
            cursor = start + length;
            total += length;
            // The newest run is what most lookups hit: check it right away.
            assertEq(log.missedThrough(base + cursor - 1), total, "through the newest run");
            assertEq(log.missedThrough(base + cursor + 1000), total, "after the newest run");
        }
        assertEq(log.runCount(), expectedRuns, "adjacent runs merged");
    }

    /// @dev prefix[i] = number of missed periods in [base, base + i).
    function _prefix(bool[] memory missed) internal pure returns (uint256[] memory prefix) {
        prefix = new uint256[](SPAN + 1);
        for (uint256 i = 0; i < SPAN; ++i) prefix[i + 1] = prefix[i] + (missed[i] ? 1 : 0);
    }

    function _runStarts() internal view returns (uint32[] memory starts) {
        starts = new uint32[](log.runCount());
        for (uint256 i = 0; i < starts.length; ++i) starts[i] = log.runAt(i).start;
    }

    /// @dev A hint for a lookup of `period`: the right one, one off either way, arbitrary, or "unknown".
    function _hint(uint32[] memory starts, uint256 period, uint256 r) internal pure returns (uint256) {
        uint256 right;
        while (right < starts.length && starts[right] <= period) ++right;
        uint256 kind = r % 5;
        if (kind == 0) return right;
        if (kind == 1) return right + 1;
        if (kind == 2) return right == 0 ? 0 : right - 1;
        if (kind == 3) return (r >> 8) % (starts.length + 3);
        return type(uint256).max;
    }

    /// @dev Every stored run covers exactly a maximal block of missed periods and counts those before it.
    function _checkRunsConsistent(uint256 base, bool[] memory missed) internal view {
        uint256 n = log.runCount();
        uint256 before;
        uint256 previousEnd;
        for (uint256 i = 0; i < n; ++i) {
            FaultLog.Run memory run = log.runAt(i);
            uint256 start = uint256(run.start) - base;
            assertEq(run.missedBefore, before, "missedBefore");
            assertTrue(run.length > 0, "non-empty run");
            if (i > 0) assertTrue(start > previousEnd, "runs are separated by a gap");
            for (uint256 p = start; p < start + run.length; ++p) assertTrue(missed[p], "run covers missed");
            if (start > 0) assertTrue(!missed[start - 1], "run is maximal on the left");
            before += run.length;
            previousEnd = start + run.length;
        }
    }
}
