// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { PackedDealList } from "../../../contracts/storage/libraries/PackedDealList.sol";

/// @notice One PackedDealList in storage (with its length, kept by the caller as in the market).
contract PackedDealListHarness {
    using PackedDealList for PackedDealList.List;

    PackedDealList.List private _list;
    /// @notice Current length of the list.
    uint256 public length;

    /// @notice Append `id` (PackedDealList.set at `length`).
    function push(uint64 id) external {
        _list.set(length, id);
        ++length;
    }

    /// @notice PackedDealList.removeAt with the current length.
    function removeAt(uint256 index) external returns (uint64 moved) {
        moved = _list.removeAt(index, length);
        --length;
    }

    /// @notice PackedDealList.at.
    function at(uint256 index) external view returns (uint64) {
        return _list.at(index);
    }

    /// @notice Raw storage word `i` of the list (four ids).
    function word(uint256 i) external view returns (uint256) {
        return _list.words[i];
    }
}
