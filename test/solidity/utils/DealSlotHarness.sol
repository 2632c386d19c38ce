// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { DealSlot } from "../../../contracts/storage/libraries/DealSlot.sol";

/// @notice Exposes the internal functions of DealSlot.
contract DealSlotHarness {
    /// @notice DealSlot.pack.
    function pack(DealSlot.State memory s) external pure returns (uint256) {
        return DealSlot.pack(s);
    }

    /// @notice DealSlot.unpack.
    function unpack(uint256 word) external pure returns (DealSlot.State memory) {
        return DealSlot.unpack(word);
    }

    /// @notice DealSlot.termsHash.
    function termsHash(uint256 word) external pure returns (uint160) {
        return DealSlot.termsHash(word);
    }

    /// @notice DealSlot.index.
    function index(uint256 word) external pure returns (uint256) {
        return DealSlot.index(word);
    }

    /// @notice DealSlot.withIndex.
    function withIndex(uint256 word, uint256 newIndex) external pure returns (uint256) {
        return DealSlot.withIndex(word, newIndex);
    }

    /// @notice DealSlot.paidSeconds.
    function paidSeconds(uint256 word) external pure returns (uint32) {
        return DealSlot.paidSeconds(word);
    }

    /// @notice DealSlot.withPaidSeconds.
    function withPaidSeconds(uint256 word, uint32 paid) external pure returns (uint256) {
        return DealSlot.withPaidSeconds(word, paid);
    }

    /// @notice DealSlot.lastDeclared.
    function lastDeclared(uint256 word) external pure returns (bool declared, uint256 period) {
        return DealSlot.lastDeclared(word);
    }
}
