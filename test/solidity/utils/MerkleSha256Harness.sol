// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MerkleSha256 } from "../../../contracts/storage/libraries/MerkleSha256.sol";

/// @notice Exposes the internal functions of MerkleSha256 (computeRoot needs its path in calldata).
contract MerkleSha256Harness {
    /// @notice MerkleSha256.leafCount.
    function leafCount(uint256 size) external pure returns (uint256) {
        return MerkleSha256.leafCount(size);
    }

    /// @notice MerkleSha256.depthOf.
    function depthOf(uint256 count) external pure returns (uint256) {
        return MerkleSha256.depthOf(count);
    }

    /// @notice MerkleSha256.computeRoot.
    function computeRoot(
        bytes32 leafLo,
        bytes32 leafHi,
        uint256 index,
        bytes32[] calldata path
    ) external view returns (bytes32) {
        return MerkleSha256.computeRoot(leafLo, leafHi, index, path);
    }
}
