// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MerkleSha256 } from "../storage/libraries/MerkleSha256.sol";

/// @notice Test-only wrapper that exposes the MerkleSha256 library, so the TypeScript commitment (PieceTree) and the
///         on-chain verifier can be checked against the same vectors (test/vectors/commitment.json).
contract MerkleHarness {
    /// @notice Root of the tree holding the 64-byte leaf `(leafLo, leafHi)` at `index` with authentication `path`.
    /// @param leafLo First 32 bytes of the leaf.
    /// @param leafHi Last 32 bytes of the leaf.
    /// @param index Leaf position.
    /// @param path Sibling hashes from the bottom level up.
    /// @return root The computed root.
    function computeRoot(
        bytes32 leafLo,
        bytes32 leafHi,
        uint256 index,
        bytes32[] calldata path
    ) external view returns (bytes32 root) {
        root = MerkleSha256.computeRoot(leafLo, leafHi, index, path);
    }

    /// @notice Number of 64-byte leaves of a piece of `size` bytes.
    /// @param size Piece size in bytes.
    /// @return count Leaf count.
    function leafCount(uint256 size) external pure returns (uint256 count) {
        count = MerkleSha256.leafCount(size);
    }

    /// @notice Height of the tree holding `count` leaves.
    /// @param count Leaf count.
    /// @return depth Tree height.
    function depthOf(uint256 count) external pure returns (uint256 depth) {
        depth = MerkleSha256.depthOf(count);
    }
}
