// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Versioned
/// @notice Copy-on-write words with one level of history, the storage form of the epoch rule (docs/SPEC.md §7.3):
///         a word holds `{cur, prev, writtenAt}`; a write tagged with an epoch other than `writtenAt` first moves
///         `cur` to `prev`; reading the value frozen for proving period N gives `prev` when the word was written
///         in epoch N and `cur` otherwise. One level suffices because the epoch only advances by a proof or a
///         missed-proof report, after which the previous epoch's values are never read again.
/// @dev Layout: `cur` in bits 0..63, `prev` in bits 64..127, `writtenAt` in bits 128..159.
library Versioned {
    uint256 private constant MASK64 = type(uint64).max;

    /// @notice The value of `word` frozen for period `epoch`.
    /// @param word A versioned word.
    /// @param epoch The proving period whose frozen value is read.
    /// @return The value.
    function frozen(uint256 word, uint256 epoch) internal pure returns (uint256) {
        return (word >> 128) == epoch ? (word >> 64) & MASK64 : word & MASK64;
    }

    /// @notice The newest value of `word`.
    /// @param word A versioned word.
    /// @return The value.
    function current(uint256 word) internal pure returns (uint256) {
        return word & MASK64;
    }

    /// @notice `word` with `value` written in epoch `tag`.
    /// @param word The word before the write.
    /// @param value The new value (64 bits).
    /// @param tag The epoch of the write.
    /// @return The word after the write.
    function write(uint256 word, uint256 value, uint256 tag) internal pure returns (uint256) {
        uint256 prev = (word >> 128) == tag ? (word >> 64) & MASK64 : word & MASK64;
        return (tag << 128) | (prev << 64) | (value & MASK64);
    }
}
