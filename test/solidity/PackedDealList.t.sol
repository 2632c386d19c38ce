// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "./utils/TestBase.sol";
import { PackedDealListHarness } from "./utils/PackedDealListHarness.sol";

/// @notice PackedDealList behaves like a plain array with push and swap-remove.
contract PackedDealListTest is TestBase {
    uint256 internal constant MAX_OPS = 80;

    PackedDealListHarness internal list;

    function setUp() public {
        list = new PackedDealListHarness();
    }

    /// @notice A random sequence of pushes and removals leaves the same ids, in the same order, as a reference
    ///         array with swap-remove; removeAt returns the id moved into the hole (0 when the last was removed);
    ///         vacated slots are cleared.
    function test_fuzz_matchesReferenceArray(uint256 seed, uint256 ops) public {
        list = new PackedDealListHarness();
        ops = bound(ops, 1, MAX_OPS);
        uint64[] memory ref = new uint64[](MAX_OPS);
        uint256 len;
        for (uint256 k = 0; k < ops; ++k) {
            uint256 r = rand(seed, k);
            // Push two times out of three (and always on an empty list) so lists grow across word boundaries.
            if (len == 0 || r % 3 != 0) {
                // Ids are non-zero (0 means "none" in removeAt); include the extremes of the 64-bit range.
                uint64 id = (r >> 8) % 5 == 0 ? type(uint64).max - uint64(k) : uint64(1 + ((r >> 16) % 1e9));
                list.push(id);
                ref[len++] = id;
            } else {
                uint256 index = (r >> 8) % len;
                uint64 expectedMoved = index == len - 1 ? 0 : ref[len - 1];
                uint64 moved = list.removeAt(index);
                assertEq(moved, expectedMoved, "moved id");
                ref[index] = ref[len - 1];
                ref[--len] = 0;
            }
            assertEq(list.length(), len, "length");
        }
        _checkEqual(ref, len);
    }

    function test_matchesReferenceArray() public {
        test_fuzz_matchesReferenceArray(1, MAX_OPS);
        test_fuzz_matchesReferenceArray(2, 9);
    }

    /// @notice Removing from the middle moves the last id into the hole, across storage words.
    function test_swapRemoveAcrossWords() public {
        for (uint64 id = 1; id <= 6; ++id) list.push(id); // words: [1 2 3 4] [5 6]
        assertEq(list.removeAt(1), 6, "6 moves into slot 1");
        assertEq(list.at(1), 6, "slot 1");
        assertEq(list.at(5), 0, "slot 5 cleared");
        assertEq(list.word(1), 5, "second word holds only id 5");
        assertEq(list.removeAt(4), 0, "removing the last moves nothing");
        assertEq(list.word(1), 0, "second word cleared");
        assertEq(list.removeAt(0), 4, "4 moves into slot 0");
        assertEq(list.at(0), 4, "slot 0");
        assertEq(list.at(1), 6, "slot 1");
        assertEq(list.at(2), 3, "slot 2");
        assertEq(list.length(), 3, "length");
    }

    function _checkEqual(uint64[] memory ref, uint256 len) internal view {
        for (uint256 i = 0; i < len; ++i) assertEq(list.at(i), ref[i], "id at index");
        // Every position past the end, up to the end of its storage word and the next, reads as empty.
        for (uint256 i = len; i < ((len + 3) & ~uint256(3)) + 4; ++i) assertEq(list.at(i), 0, "cleared slot");
        for (uint256 w = (len + 3) / 4; w < MAX_OPS / 4 + 1; ++w) assertEq(list.word(w), 0, "empty word");
    }
}
