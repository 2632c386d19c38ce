// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title FaultLog
/// @notice Per-provider record of missed proving periods as runs of consecutive periods, so that the number
///         of periods missed in any range is answered with one binary search instead of a loop over deals.
/// @dev Runs are appended in increasing period order; a run that starts where the last one ended extends it.
library FaultLog {
    /// @notice A run of `length` consecutive missed periods starting at `start`; `missedBefore` is the number
    ///         of periods missed before it.
    struct Run {
        uint32 start;
        uint32 length;
        uint64 missedBefore;
    }

    /// @notice The runs of one provider, oldest first.
    struct Log {
        Run[] runs;
    }

    /// @notice Record that the `length` periods starting at `start` were missed.
    /// @dev Callers record strictly increasing, non-overlapping ranges (the proving cursor only moves forward).
    /// @param log The provider's log.
    /// @param start First missed period.
    /// @param length Number of consecutive missed periods (> 0).
    function record(Log storage log, uint32 start, uint32 length) internal {
        uint256 n = log.runs.length;
        if (n != 0) {
            Run storage last = log.runs[n - 1];
            // last.start + last.length <= start < 2^32 because ranges only move forward.
            unchecked {
                if (uint256(last.start) + last.length == start) {
                    last.length += length;
                    return;
                }
                log.runs.push(Run(start, length, last.missedBefore + last.length));
            }
            return;
        }
        log.runs.push(Run(start, length, 0));
    }

    /// @notice Number of missed periods `p` with `p <= period`.
    /// @param log The provider's log.
    /// @param period Last period counted.
    /// @return missed The count.
    function missedThrough(Log storage log, uint256 period) internal view returns (uint256 missed) {
        Run[] storage runs = log.runs;
        uint256 high = runs.length;
        if (high == 0) return 0;
        // Most lookups fall after the last run or before the first: answer those without searching.
        Run memory run = runs[high - 1];
        if (run.start > period) {
            if (runs[0].start > period) return 0;
            uint256 low = 0;
            // Invariant: runs[low..high) may contain the answer; runs[high..] start after `period`.
            --high;
            while (low < high) {
                uint256 mid = (low + high) >> 1;
                if (runs[mid].start > period) high = mid;
                else low = mid + 1;
            }
            if (low == 0) return 0;
            run = runs[low - 1];
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
    /// @param period Last period counted.
    /// @param hint Number of runs with `start <= period`.
    /// @return missed The count.
    function missedThroughHinted(
        Log storage log,
        uint256 period,
        uint256 hint
    ) internal view returns (uint256 missed) {
        Run[] storage runs = log.runs;
        uint256 n = runs.length;
        if (hint > n || (hint < n && runs[hint].start <= period)) return missedThrough(log, period);
        if (hint == 0) return 0;
        Run memory run = runs[hint - 1];
        if (run.start > period) return missedThrough(log, period);
        // run.start <= period here.
        unchecked {
            uint256 inRun = period - run.start + 1;
            missed = run.missedBefore + (inRun < run.length ? inRun : run.length);
        }
    }

    /// @notice Number of missed periods in `[from, to)`.
    /// @param log The provider's log.
    /// @param from First period counted.
    /// @param to First period not counted.
    /// @return missed The count (0 when `to <= from`).
    function missedBetween(Log storage log, uint256 from, uint256 to) internal view returns (uint256 missed) {
        return missedBetweenHinted(log, from, to, type(uint256).max);
    }

    /// @notice `missedBetween` with a hint for the lower end: the number of runs that start at or before
    ///         `from - 1` (`type(uint256).max` for none).
    /// @param log The provider's log.
    /// @param from First period counted.
    /// @param to First period not counted.
    /// @param fromHint Hint for `missedThrough(from - 1)`.
    /// @return missed The count (0 when `to <= from`).
    function missedBetweenHinted(
        Log storage log,
        uint256 from,
        uint256 to,
        uint256 fromHint
    ) internal view returns (uint256 missed) {
        if (to <= from) return 0;
        uint256 upTo = missedThrough(log, to - 1);
        if (from == 0) return upTo;
        uint256 before =
            fromHint == type(uint256).max
                ? missedThrough(log, from - 1)
                : missedThroughHinted(log, from - 1, fromHint);
        // missedThrough is monotone in its argument, so the difference cannot underflow.
        unchecked {
            missed = upTo - before;
        }
    }
}
