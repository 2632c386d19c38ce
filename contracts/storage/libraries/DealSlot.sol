// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title DealSlot
/// @notice One storage word per deal: a 160-bit commitment to the deal's immutable terms and its mutable
///         state. Terms travel in calldata and are checked against the commitment, which keeps publishing
///         at one new storage word per deal.
/// @dev Layout, high to low bits: termsHash (160) | paidSeconds (32) | declaredFaults (8) |
///      lastDeclaredPeriod + 1 (32) | list index (24).
library DealSlot {
    /// @notice Decoded mutable state of a deal.
    struct State {
        uint160 termsHash;
        uint32 paidSeconds;
        uint8 declaredFaults;
        uint32 lastDeclaredPeriodPlusOne;
        uint24 index;
    }

    /// @notice Pack a state into its word.
    /// @param s The state.
    /// @return word The packed word.
    function pack(State memory s) internal pure returns (uint256 word) {
        word =
            (uint256(s.termsHash) << 96) |
            (uint256(s.paidSeconds) << 64) |
            (uint256(s.declaredFaults) << 56) |
            (uint256(s.lastDeclaredPeriodPlusOne) << 24) |
            uint256(s.index);
    }

    /// @notice Unpack a word.
    /// @param word The packed word.
    /// @return s The state.
    function unpack(uint256 word) internal pure returns (State memory s) {
        s.termsHash = uint160(word >> 96);
        s.paidSeconds = uint32(word >> 64);
        s.declaredFaults = uint8(word >> 56);
        s.lastDeclaredPeriodPlusOne = uint32(word >> 24);
        s.index = uint24(word);
    }

    /// @notice Terms hash stored in a word (0 when the deal does not exist).
    /// @param word The packed word.
    /// @return The terms hash.
    function termsHash(uint256 word) internal pure returns (uint160) {
        return uint160(word >> 96);
    }

    /// @notice Seconds already paid, stored in a word.
    /// @param word The packed word.
    /// @return The paid seconds.
    function paidSeconds(uint256 word) internal pure returns (uint32) {
        return uint32(word >> 64);
    }

    /// @notice The same word with new paid seconds (settlement changes nothing else).
    /// @param word The packed word.
    /// @param paid The paid seconds.
    /// @return The updated word.
    function withPaidSeconds(uint256 word, uint32 paid) internal pure returns (uint256) {
        return (word & ~(uint256(type(uint32).max) << 64)) | (uint256(paid) << 64);
    }

    /// @notice List index stored in a word.
    /// @param word The packed word.
    /// @return The index.
    function index(uint256 word) internal pure returns (uint256) {
        return uint24(word);
    }

    /// @notice The same word with a new list index.
    /// @param word The packed word.
    /// @param newIndex The index.
    /// @return The updated word.
    function withIndex(uint256 word, uint256 newIndex) internal pure returns (uint256) {
        return (word & ~uint256(type(uint24).max)) | uint24(newIndex);
    }

    /// @notice The period most recently declared faulty, and whether any was.
    /// @param word The packed word.
    /// @return declared True if a fault was ever declared.
    /// @return period The last declared period.
    function lastDeclared(uint256 word) internal pure returns (bool declared, uint256 period) {
        uint256 plusOne = uint32(word >> 24);
        declared = plusOne != 0;
        // plusOne != 0 when declared; otherwise the value is unused.
        unchecked {
            period = plusOne - (declared ? 1 : 0);
        }
    }
}
