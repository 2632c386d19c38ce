// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";

/// @title DealTerms
/// @notice The 160-bit commitment to a deal's immutable terms that the storage market stores, computed in one
///         place for every contract that checks deal terms (the market, its proof library, retrieval
///         challenges), so the commitments cannot drift apart.
/// @dev `termsHash = uint160(keccak256(abi.encode(root, size, endPeriod, partiesHash)))` with
///      `partiesHash = keccak256(abi.encode(id, client, provider, startPeriod, pricePerSecond, collateral))`.
///      The split lets an extension change `endPeriod` and lets a proof answer carry `partiesHash` instead of
///      six fields.
library DealTerms {
    /// @notice Hash of the parties and money terms of a deal (the part an extension never changes).
    /// @param d The deal.
    /// @return The parties hash.
    function partiesHash(IStorageMarket.Deal calldata d) internal pure returns (bytes32) {
        return partiesHash(d.id, d.client, d.provider, d.startPeriod, d.pricePerSecond, d.collateral);
    }

    /// @notice Hash of the parties and money terms of a deal, from its fields.
    /// @param id Deal id.
    /// @param client Client.
    /// @param provider Provider.
    /// @param startPeriod First paid period.
    /// @param pricePerSecond Price per second.
    /// @param collateral Locked collateral.
    /// @return The parties hash.
    function partiesHash(
        uint64 id,
        address client,
        address provider,
        uint32 startPeriod,
        uint128 pricePerSecond,
        uint128 collateral
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(id, client, provider, startPeriod, pricePerSecond, collateral));
    }

    /// @notice The stored commitment of a deal with these data terms and parties hash.
    /// @param root Piece Merkle root.
    /// @param size Piece size in bytes.
    /// @param endPeriod First period after the deal.
    /// @param parties The deal's `partiesHash`.
    /// @return The 160-bit commitment.
    function termsHash(
        bytes32 root,
        uint64 size,
        uint32 endPeriod,
        bytes32 parties
    ) internal pure returns (uint160) {
        return uint160(uint256(keccak256(abi.encode(root, size, endPeriod, parties))));
    }

    /// @notice The stored commitment of `d`.
    /// @param d The deal.
    /// @return The 160-bit commitment.
    function hash(IStorageMarket.Deal calldata d) internal pure returns (uint160) {
        return termsHash(d.root, d.size, d.endPeriod, partiesHash(d));
    }
}
