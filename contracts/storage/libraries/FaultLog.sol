// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title FaultLog
/// @notice Per-provider record of missed proving periods as runs of consecutive periods, so that the number
///         of periods missed in any range is answered with one binary search instead of a loop over deals.
/// @dev Runs are appended in increasing period order; a run that starts where the last one ended extends it.
///      A run takes 128 bits and two share a storage word, so every other new run writes no new word. The number
///      of runs is kept by the caller (the market packs it into a word it writes anyway) and passed in.
library FaultLog {
    /// @notice A run of `length` consecutive missed periods starting at `start`; `missedBefore` is the number
    ///         of periods missed before it.
    struct Run {
        uint32 start;
        uint32 length;
        uint64 missedBefore;
    }

    /// @notice The runs of one provider, oldest first: run i in half `i & 1` of word `i >> 1`.
    struct Log {
        mapping(uint256 index => uint256 pair) words;
    }

    /// @notice Run `i` (< the number of runs).
    /// @param log The provider's log.
    /// @param i The run's index.
    /// @return run The run.
    function runAt(Log storage log, uint256 i) internal view returns (Run memory run) {
        uint256 packed = (log.words[i >> 1] >> ((i & 1) << 7)) & type(uint128).max;
        run.start = uint32(packed);
        run.length = uint32(packed >> 32);
        run.missedBefore = uint64(packed >> 64);
    }

    function _setRun(
        Log storage log,
        uint256 i,
        uint256 start,
        uint256 length,
        uint256 missedBefore
    ) private {
        uint256 packed = start | (length << 32) | (missedBefore << 64);
        uint256 shift = (i & 1) << 7;
        uint256 word = log.words[i >> 1];
        log.words[i >> 1] = (word & ~(uint256(type(uint128).max) << shift)) | (packed << shift);
    }

    /// @notice Record that the `length` periods starting at `start` were missed.
    /// @dev Callers record strictly increasing, non-overlapping ranges (the proving cursor only moves forward).
    /// @param log The provider's log.
    /// @param n Number of runs before.
    /// @param start First missed period.
    /// @param length Number of consecutive missed periods (> 0).
    /// @return Number of runs after (`n` or `n + 1`).
    function record(Log storage log, uint256 n, uint32 start, uint32 length) internal returns (uint256) {
        if (n != 0) {
            Run memory last = runAt(log, n - 1);
            // last.start + last.length <= start < 2^32 because ranges only move forward; missed counts < 2^64.
            unchecked {
                if (uint256(last.start) + last.length == start) {
                    _setRun(log, n - 1, last.start, uint256(last.length) + length, last.missedBefore);
                    return n;
                }
                _setRun(log, n, start, length, uint256(last.missedBefore) + last.length);
                return n + 1;
            }
        }
        _setRun(log, 0, start, length, 0);
        return 1;
    }

    /// @notice Number of missed periods `p` with `p <= period`.
    /// @param log The provider's log.
    /// @param n Number of runs.
    /// @param period Last period counted.
    /// @return missed The count.
    function missedThrough(
        Log storage log,
        uint256 n,
        uint256 period
    ) internal view returns (uint256 missed) {
        uint256 high = n;
        if (high == 0) return 0;
        // Most lookups fall after the last run or before the first: answer those without searching.
        Run memory run = runAt(log, high - 1);
        if (run.start > period) {
            if (runAt(log, 0).start > period) return 0;
            uint256 low = 0;
            // Invariant: runs[low..high) may contain the answer; runs[high..] start after `period`.
            --high;
            while (low < high) {
                uint256 mid = (low + high) >> 1;
                if (runAt(log, mid).start > period) high = mid;
                else low = mid + 1;
            }
            if (low == 0) return 0;
            run = runAt(log, low - 1);
        }
        // run.start <= period here.
        unchecked {
            uint256 inRun = period - run.start + 1;
            missed = run.missedBefore + (inRun < run.length ? inRun : run.length);
        }
    }

    /// @notice `missedThrough` with a caller-supplied position: `hint` is the number of runs that start at or
    ///         before `period`. A correct hint answers in O(1); a wrong one falls back to the search.
    /// @param log The provider's log.
    /// @param n Number of runs.
    /// @param period Last period counted.
    /// @param hint Number of runs with `start <= period`.
    /// @return missed The count.
    function missedThroughHinted(
        Log storage log,
        uint256 n,
        uint256 period,
        uint256 hint
    ) internal view returns (uint256 missed) {
        if (hint > n || (hint < n && runAt(log, hint).start <= period)) return missedThrough(log, n, period);
        if (hint == 0) return 0;
        Run memory run = runAt(log, hint - 1);
        if (run.start > period) return missedThrough(log, n, period);
        // run.start <= period here.
        unchecked {
            uint256 inRun = period - run.start + 1;
            missed = run.missedBefore + (inRun < run.length ? inRun : run.length);
        }
    }

    /// @notice Number of missed periods in `[from, to)`.
    /// @param log The provider's log.
    /// @param n Number of runs.
    /// @param from First period counted.
    /// @param to First period not counted.
    /// @return missed The count (0 when `to <= from`).
    function missedBetween(
        Log storage log,
        uint256 n,
        uint256 from,
        uint256 to
    ) internal view returns (uint256 missed) {
        return missedBetweenHinted(log, n, from, to, type(uint256).max);
    }

    /// @notice `missedBetween` with a hint for the lower end: the number of runs that start at or before
    ///         `from - 1` (`type(uint256).max` for none).
    /// @param log The provider's log.
    /// @param n Number of runs.
    /// @param from First period counted.
    /// @param to First period not counted.
    /// @param fromHint Hint for `missedThrough(from - 1)`.
    /// @return missed The count (0 when `to <= from`).
    function missedBetweenHinted(
        Log storage log,
        uint256 n,
        uint256 from,
        uint256 to,
        uint256 fromHint
    ) internal view returns (uint256 missed) {
        if (to <= from) return 0;
        uint256 upTo = missedThrough(log, n, to - 1);
        if (from == 0) return upTo;
        uint256 before =
            fromHint == type(uint256).max
                ? missedThrough(log, n, from - 1)
                : missedThroughHinted(log, n, from - 1, fromHint);
        // missedThrough is monotone in its argument, so the difference cannot underflow.
        unchecked {
            missed = upTo - before;
        }
    }
}
