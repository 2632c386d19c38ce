// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "./utils/TestBase.sol";
import { RandomPieceTrees } from "./utils/RandomPieceTrees.sol";
import { MerkleSha256Harness } from "./utils/MerkleSha256Harness.sol";

/// @notice MerkleSha256 against a full tree built here with the sha256 builtin.
contract MerkleSha256Test is TestBase, RandomPieceTrees {
    uint256 internal constant MAX_LEAVES = 64;

    MerkleSha256Harness internal merkle;

    function setUp() public {
        merkle = new MerkleSha256Harness();
    }

    // ------------------------------------------------------------------ formulas

    /// @notice leafCount == ceil(size / 64); depthOf(n) is the smallest d with 2^d >= n.
    function test_fuzz_leafCountAndDepthFormulas(uint64 size, uint256 count) public view {
        uint256 leaves = merkle.leafCount(size);
        assertEq(leaves, size / LEAF + (size % LEAF == 0 ? 0 : 1), "leafCount");
        count = bound(count, 1, uint256(1) << 64);
        uint256 depth = merkle.depthOf(count);
        assertEq(depth, _ceilLog2(count), "depthOf");
        assertGe(uint256(1) << depth, count, "2^depth >= count");
        if (depth > 0) assertTrue((uint256(1) << (depth - 1)) < count, "2^(depth-1) < count");
    }

    function test_leafCountAndDepthFormulas() public view {
        test_fuzz_leafCountAndDepthFormulas(1, 1);
        test_fuzz_leafCountAndDepthFormulas(64, 2);
        test_fuzz_leafCountAndDepthFormulas(65, 3);
        test_fuzz_leafCountAndDepthFormulas(4096, 64);
        test_fuzz_leafCountAndDepthFormulas(4097, 65);
        test_fuzz_leafCountAndDepthFormulas(type(uint64).max, uint256(1) << 64);
        assertEq(merkle.depthOf(1), 0, "one leaf");
        assertEq(merkle.depthOf(5), 3, "five leaves");
        assertEq(merkle.leafCount(0), 0, "empty piece");
    }

    // ------------------------------------------------------------------ computeRoot

    /// @notice Opening any real leaf of a random piece with its authentication path gives the root.
    function test_fuzz_computeRootMatchesFullTree(uint256 seed, uint256 size, uint256 index) public view {
        Tree memory t = _buildTree(seed, bound(size, 1, MAX_LEAVES * LEAF));
        index = bound(index, 0, t.leaves - 1);
        (bytes32 lo, bytes32 hi) = _leaf(t, index);
        bytes32[] memory path = _path(t, index);
        assertEq(path.length, t.depth, "path length == depth");
        assertEq(merkle.computeRoot(lo, hi, index, path), _root(t), "root");
    }

    function test_computeRootMatchesFullTree() public view {
        test_fuzz_computeRootMatchesFullTree(1, 64, 0); // a single leaf: root = sha256(leaf)
        test_fuzz_computeRootMatchesFullTree(2, 65, 1); // the second leaf is zero-padded
        test_fuzz_computeRootMatchesFullTree(3, 5 * 64 - 7, 4); // five leaves padded to eight
        test_fuzz_computeRootMatchesFullTree(4, 64 * 64, 63);
    }

    /// @notice A single 64-byte piece: the root is sha256 of the leaf and the path is empty.
    function test_singleLeafRootIsLeafHash() public view {
        bytes32 lo = keccak256("lo");
        bytes32 hi = keccak256("hi");
        bytes32[] memory path = new bytes32[](0);
        assertEq(merkle.computeRoot(lo, hi, 0, path), sha256(abi.encodePacked(lo, hi)), "sha256(leaf)");
    }

    /// @notice Flipping any single bit of the leaf or of the path changes the computed root, and so does
    ///         opening the leaf at a position whose subtree differs.
    function test_fuzz_anyBitFlipChangesRoot(
        uint256 seed,
        uint256 size,
        uint256 index,
        uint256 bit
    ) public view {
        Tree memory t = _buildTree(seed, bound(size, 1, MAX_LEAVES * LEAF));
        index = bound(index, 0, t.leaves - 1);
        (bytes32 lo, bytes32 hi) = _leaf(t, index);
        bytes32[] memory path = _path(t, index);
        bytes32 root = _root(t);
        bit = bound(bit, 0, 512 + 256 * t.depth - 1);
        if (bit < 256) lo ^= bytes32(uint256(1) << bit);
        else if (bit < 512) hi ^= bytes32(uint256(1) << (bit - 256));
        else path[(bit - 512) / 256] ^= bytes32(uint256(1) << (bit % 256));
        assertNotEq(merkle.computeRoot(lo, hi, index, path), root, "flipped bit changes the root");

        if (t.depth == 0) return;
        (lo, hi) = _leaf(t, index);
        path = _path(t, index);
        uint256 level = seed % t.depth;
        uint256 node = index >> level;
        // Swapping left and right at `level` changes the root unless both children are equal (e.g. padding).
        if (t.levels[level][node] != t.levels[level][node ^ 1]) {
            assertNotEq(
                merkle.computeRoot(lo, hi, index ^ (uint256(1) << level), path),
                root,
                "wrong position changes the root"
            );
        }
    }

    function test_anyBitFlipChangesRoot() public view {
        test_fuzz_anyBitFlipChangesRoot(1, 64, 0, 0);
        test_fuzz_anyBitFlipChangesRoot(2, 64, 0, 511);
        test_fuzz_anyBitFlipChangesRoot(3, 1000, 7, 512 + 3 * 256 + 17);
        test_fuzz_anyBitFlipChangesRoot(4, 4096, 40, 512 + 5 * 256 + 255);
    }
}
