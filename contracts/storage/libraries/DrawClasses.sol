// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title DrawClasses
/// @notice The draw classes a challenge is drawn over (docs/SPEC.md §4.3): size class c (`ceil(log2 span)`) split
///         into eighths, so that every span fills at least 8/9 of its draw class's capacity and a draw is rejected
///         with probability below 1/9. Per provider and size class c the market keeps two packed count words: the
///         current counts of c's eight draw classes with the epoch they were written in, and the counts they
///         replaced (the copy-on-write of `Versioned`, for eight counts at once).
/// @dev Word layout: count of eighth m in bits `27m .. 27m + 26` (m = 0..7); the current word's bit 216 says that the
///      previous counts are all zero (the size class was empty before the first write of `writtenAt`, so the previous
///      word is not written), and its bits 224..255 hold `writtenAt`. A count is below 2^27: a provider would need
///      2^27 data sets of one draw class, more creations than 2^27 × the creation's gas could ever pay for.
library DrawClasses {
    /// @notice Bits of one draw class's count in a packed count word.
    uint256 internal constant COUNT_BITS = 27;
    /// @notice Mask of one count.
    uint256 internal constant COUNT_MASK = (uint256(1) << COUNT_BITS) - 1;
    /// @notice Mask of the eight counts of a packed word.
    uint256 internal constant COUNTS_MASK = (uint256(1) << (8 * COUNT_BITS)) - 1;
    /// @notice Bit of the current word set when the previous counts are all zero.
    uint256 internal constant PREV_ZERO_BIT = 8 * COUNT_BITS;
    /// @notice Bit of `writtenAt` in the current word.
    uint256 internal constant WRITTEN_AT_BIT = 224;
    /// @notice Key offset of the previous word of size class c (at `c + PREV_KEY`; size classes are below 48).
    uint256 internal constant PREV_KEY = 64;

    /// @notice Draw class of a span (> 0): `c << 3 | m` with `c = ceil(log2 span)` and m the eighth of
    ///         `(2^(c-1), 2^c]` that holds it: spans `2^(c-1) + m·2^(c-4) + 1 .. 2^(c-1) + (m + 1)·2^(c-4)`; below class
    ///         4 eighths are single spans (class c < 4 has only `2^(c-1)` of them; class 0 is span 1).
    /// @param span The span (> 0).
    /// @return The draw class.
    function classOf(uint256 span) internal pure returns (uint256) {
        return classIn(span, Math.log2(span, Math.Rounding.Ceil));
    }

    /// @notice `classOf(span)` when its size class `c = ceil(log2 span)` is known.
    /// @param span The span (> 0).
    /// @param c Its size class.
    /// @return The draw class.
    function classIn(uint256 span, uint256 c) internal pure returns (uint256) {
        // span > 2^(c-1) (the half below, 0 for c = 0 where span = 1): the subtraction cannot underflow.
        unchecked {
            return (c << 3) | ((span - ((uint256(1) << c) >> 1) - 1) >> (c > 4 ? c - 4 : 0));
        }
    }

    /// @notice Whether two spans (> 0) are in the same draw class, without a logarithm: with `a = oldSpan - 1` and
    ///         `b = span - 1`, the same size class and eighth means `a` and `b` agree on every bit from four below
    ///         `a`'s top bit up, i.e. `((a ^ b) << 4) & ~a <= a` (exact: fuzz-tested, and for every pair up to 70).
    /// @param oldSpan A span (> 0).
    /// @param span Another span (> 0).
    /// @return True when `classOf(oldSpan) == classOf(span)`.
    function sameClass(uint256 oldSpan, uint256 span) internal pure returns (bool) {
        // Spans are below 2^64: the shift cannot overflow; both are > 0, so the subtractions cannot underflow.
        unchecked {
            uint256 a = oldSpan - 1;
            return (((a ^ (span - 1)) << 4) & ~a) <= a;
        }
    }

    /// @notice Capacity (leaves) of draw class `k = c << 3 | m`: the largest span in it,
    ///         `2^(c-1) + (m + 1)·2^(c-4)` (`2^(c-1) + m + 1` below class 4; 1 for class 0).
    /// @param k The draw class.
    /// @return The capacity.
    function capacity(uint256 k) internal pure returns (uint256) {
        uint256 c = k >> 3;
        return ((uint256(1) << c) >> 1) + (((k & 7) + 1) << (c > 4 ? c - 4 : 0));
    }

    /// @notice The eight counts of size class c frozen for `epoch`: the previous word when the current one was
    ///         written in `epoch`, else the current one.
    /// @param counts The provider's count words.
    /// @param c The size class.
    /// @param epoch The proving period whose frozen counts are read.
    /// @return The packed counts.
    function frozen(
        mapping(uint256 => uint256) storage counts,
        uint256 c,
        uint256 epoch
    ) internal view returns (uint256) {
        uint256 w = counts[c];
        if ((w >> WRITTEN_AT_BIT) != epoch) return w & COUNTS_MASK;
        return (w >> PREV_ZERO_BIT) & 1 == 1 ? 0 : counts[c + PREV_KEY];
    }

    /// @notice Add one to or remove one from the count of draw class `k` in epoch `tag`; returns the count before
    ///         and whether size class `k >> 3` held nothing before (adding) or holds nothing after (removing).
    /// @param counts The provider's count words.
    /// @param k The draw class.
    /// @param up True to add one, false to remove one (the count is then > 0).
    /// @param tag The epoch of the write.
    /// @return before The draw class's count before the write.
    /// @return classEmptied True when size class `k >> 3` was empty before (adding) or is empty after (removing).
    function move(
        mapping(uint256 => uint256) storage counts,
        uint256 k,
        bool up,
        uint256 tag
    ) internal returns (uint256 before, bool classEmptied) {
        uint256 c = k >> 3;
        uint256 w = counts[c];
        uint256 cur = w & COUNTS_MASK;
        uint256 prevZero = (w >> PREV_ZERO_BIT) & 1;
        // Copy-on-write: the first write of an epoch keeps the counts it replaces for the epoch's frozen reads (in the
        // previous word, or as the flag when they are all zero).
        if ((w >> WRITTEN_AT_BIT) != tag) {
            if (cur == 0) {
                prevZero = 1;
            } else {
                counts[c + PREV_KEY] = cur;
                prevZero = 0;
            }
        }
        uint256 shift = (k & 7) * COUNT_BITS;
        before = (cur >> shift) & COUNT_MASK;
        // A count stays below 2^27 (see the layout note), and a removal has before >= 1: no carry or borrow crosses
        // into a neighbouring count.
        uint256 next = up ? cur + (uint256(1) << shift) : cur - (uint256(1) << shift);
        counts[c] = (tag << WRITTEN_AT_BIT) | (prevZero << PREV_ZERO_BIT) | next;
        classEmptied = up ? cur == 0 : next == 0;
    }
}
