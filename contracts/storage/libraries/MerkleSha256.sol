// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title MerkleSha256
/// @notice Binary SHA-256 Merkle tree over 64-byte leaves, as committed by Strata clients.
/// @dev A piece of `size` bytes is zero-padded to `64 * 2^depth` bytes, where `depth = ceil(log2(ceil(size/64)))`.
///      A leaf is 64 bytes; its node is `sha256(leaf)`; an inner node is `sha256(left || right)`. Because the
///      proof length must equal `depth`, a leaf can only be opened at the bottom level, so an inner node's
///      preimage cannot be passed off as a leaf. Uses the SHA-256 precompile (address 0x02).
library MerkleSha256 {
    /// @notice Number of 64-byte leaves in a piece of `size` bytes.
    /// @param size Piece size in bytes.
    /// @return count Leaf count (`ceil(size / 64)`).
    function leafCount(uint256 size) internal pure returns (uint256 count) {
        // size < 2^64 in every caller, so the addition cannot overflow.
        unchecked {
            count = (size + 63) >> 6;
        }
    }

    /// @notice Height of the tree holding `count` leaves (`ceil(log2(count))`, 0 for a single leaf).
    /// @param count Leaf count (> 0).
    /// @return depth Tree height.
    function depthOf(uint256 count) internal pure returns (uint256 depth) {
        // The loop runs at most 64 times for count < 2^64; shifting left by < 256 cannot overflow usefully.
        unchecked {
            while ((uint256(1) << depth) < count) ++depth;
        }
    }

    /// @notice Root of the tree that holds leaf `index` with the given authentication path.
    /// @param leafLo First 32 bytes of the 64-byte leaf.
    /// @param leafHi Last 32 bytes of the 64-byte leaf.
    /// @param index Leaf position (bit i says whether the node at level i is a right child).
    /// @param path Sibling hashes from the bottom level up.
    /// @return node The computed root.
    function computeRoot(
        bytes32 leafLo,
        bytes32 leafHi,
        uint256 index,
        bytes32[] calldata path
    ) internal view returns (bytes32 node) {
        assembly ("memory-safe") {
            // The 64-byte scratch space at 0x00..0x3f holds each hash input; no allocation is needed.
            mstore(0x00, leafLo)
            mstore(0x20, leafHi)
            if iszero(staticcall(gas(), 0x02, 0x00, 0x40, 0x00, 0x20)) {
                revert(0, 0)
            }
            node := mload(0x00)
            let end := add(path.offset, shl(5, path.length))
            for {
                let p := path.offset
            } lt(p, end) {
                p := add(p, 0x20)
            } {
                let sibling := calldataload(p)
                // Bit 0 of index is 1 when the current node is a right child.
                switch and(index, 1)
                case 0 {
                    mstore(0x00, node)
                    mstore(0x20, sibling)
                }
                default {
                    mstore(0x00, sibling)
                    mstore(0x20, node)
                }
                if iszero(staticcall(gas(), 0x02, 0x00, 0x40, 0x00, 0x20)) {
                    revert(0, 0)
                }
                node := mload(0x00)
                index := shr(1, index)
            }
        }
    }
}
