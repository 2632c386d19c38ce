// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title PackedDealList
/// @notice A provider's active deal ids, four 64-bit ids per storage word, with O(1) push and swap-remove.
///         Challenges pick deals by position in this list. The length lives with the caller's state.
library PackedDealList {
    /// @notice The words of one provider's list.
    struct List {
        mapping(uint256 word => uint256 ids) words;
    }

    /// @notice Id at `index`.
    /// @param list The list.
    /// @param index Position (must be < length).
    /// @return id The deal id.
    function at(List storage list, uint256 index) internal view returns (uint64 id) {
        id = uint64(list.words[index >> 2] >> ((index & 3) << 6));
    }

    /// @notice Write `id` at position `index` (used for push at `index == length` and for swaps).
    /// @param list The list.
    /// @param index Position.
    /// @param id The deal id.
    function set(List storage list, uint256 index, uint64 id) internal {
        uint256 shift = (index & 3) << 6;
        uint256 word = list.words[index >> 2];
        list.words[index >> 2] = (word & ~(uint256(type(uint64).max) << shift)) | (uint256(id) << shift);
    }

    /// @notice Remove position `index` from a list of `length` entries by moving the last id into it.
    /// @param list The list.
    /// @param index Position removed.
    /// @param length Current length (> index).
    /// @return moved The id that now sits at `index`, or 0 when the removed entry was the last one.
    function removeAt(List storage list, uint256 index, uint256 length) internal returns (uint64 moved) {
        uint256 last = length - 1;
        if (index != last) {
            moved = at(list, last);
            set(list, index, moved);
        }
        // Clear the vacated slot so the list's words never keep stale ids.
        set(list, last, 0);
    }
}
