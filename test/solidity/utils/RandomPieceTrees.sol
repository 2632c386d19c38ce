// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice Full SHA-256 Merkle trees of random pieces, built with the sha256 builtin, for tests that check
///         MerkleSha256 and the contracts that verify leaf proofs against it.
abstract contract RandomPieceTrees {
    uint256 internal constant LEAF = 64;

    /// @dev A piece's full tree: levels[0] are the leaf nodes (padded to a power of two), the last level the root.
    struct Tree {
        uint256 seed;
        uint256 size;
        uint256 leaves;
        uint256 depth;
        bytes32[][] levels;
    }

    /// @dev The 64-byte leaf `i` of the tree's random piece, zero past the end of the piece.
    function _leaf(Tree memory t, uint256 i) internal pure returns (bytes32 lo, bytes32 hi) {
        if (i * LEAF >= t.size) return (bytes32(0), bytes32(0));
        uint256 valid = t.size - i * LEAF;
        lo = keccak256(abi.encode(t.seed, i, 0));
        hi = keccak256(abi.encode(t.seed, i, 1));
        if (valid < 64) hi = _keepHighBytes(hi, valid > 32 ? valid - 32 : 0);
        if (valid < 32) lo = _keepHighBytes(lo, valid);
    }

    /// @dev Keep the first `n` bytes of `w` (big-endian), zero the rest.
    function _keepHighBytes(bytes32 w, uint256 n) internal pure returns (bytes32) {
        if (n == 0) return bytes32(0);
        return w & ~bytes32((uint256(1) << (8 * (32 - n))) - 1);
    }

    /// @dev The full tree of the random piece of `size` bytes drawn from `seed`.
    function _buildTree(uint256 seed, uint256 size) internal pure returns (Tree memory t) {
        t.seed = seed;
        t.size = size;
        t.leaves = (size + LEAF - 1) / LEAF;
        t.depth = _ceilLog2(t.leaves);
        t.levels = new bytes32[][](t.depth + 1);
        uint256 width = uint256(1) << t.depth;
        bytes32[] memory level = new bytes32[](width);
        for (uint256 i = 0; i < width; ++i) {
            (bytes32 lo, bytes32 hi) = _leaf(t, i);
            level[i] = sha256(abi.encodePacked(lo, hi));
        }
        t.levels[0] = level;
        for (uint256 d = 1; d <= t.depth; ++d) {
            width >>= 1;
            bytes32[] memory up = new bytes32[](width);
            for (uint256 i = 0; i < width; ++i)
                up[i] = sha256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            t.levels[d] = up;
            level = up;
        }
    }

    /// @dev The authentication path of leaf `index`, bottom up.
    function _path(Tree memory t, uint256 index) internal pure returns (bytes32[] memory path) {
        path = new bytes32[](t.depth);
        for (uint256 d = 0; d < t.depth; ++d) path[d] = t.levels[d][(index >> d) ^ 1];
    }

    function _root(Tree memory t) internal pure returns (bytes32) {
        return t.levels[t.depth][0];
    }

    /// @dev ceil(log2(n)) for n >= 1, via the bit length of n - 1.
    function _ceilLog2(uint256 n) internal pure returns (uint256 bits) {
        uint256 x = n - 1;
        while (x != 0) {
            ++bits;
            x >>= 1;
        }
    }
}
