// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { BasisPoints } from "../../payments/libraries/BasisPoints.sol";
import { DataSetMath } from "../../storage/libraries/DataSetMath.sol";

/// @title DurabilityRules
/// @notice Rules shared by repair mandates and permanent storage (docs/SPEC.md §16): how a piece is named in a
///         file's piece list, when a piece counts as lost, the cap on a repair reward, and the escrow a new data
///         set of one piece receives.
library DurabilityRules {
    /// @notice Longest Merkle proof accepted for a piece list (2^32 pieces).
    uint256 internal constant MAX_PROOF_LENGTH = 32;

    /// @notice Smallest span a permanent piece is charged for: 4,096 leaves (256 KiB). Every placement, top-up and
    ///         reward is rounded up to a whole base unit, so a file of tiny pieces charged for its own span could be
    ///         left with a released principal that exactly covers its first n placements and not one re-placement.
    uint64 internal constant MIN_CHARGED_SPAN = 4096;

    /// @notice Leaf of a file's piece list: the piece's position, its commitment (the SHA-256 root of the piece
    ///         as an aligned subtree of 64-byte leaves), its span in leaves and the data set first holding it
    ///         (0 when none yet). Double keccak, as OpenZeppelin's `MerkleProof` expects.
    /// @param index Position of the piece in the file (0..n-1).
    /// @param pieceRoot The piece commitment.
    /// @param span The piece's span in 64-byte leaves.
    /// @param dataSetId The data set first holding the piece (0 = none).
    /// @return The leaf hash.
    function pieceLeaf(
        uint32 index,
        bytes32 pieceRoot,
        uint64 span,
        uint64 dataSetId
    ) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(index, pieceRoot, span, dataSetId))));
    }

    /// @notice A piece is lost when the data set holding it is no longer live (ending, finalized, or never
    ///         created): the market no longer pays anybody to keep it past its end.
    /// @param market The storage market.
    /// @param dataSetId The data set holding the piece.
    /// @return lost Whether the piece is lost.
    /// @return provider The data set's provider (0 when it does not exist).
    function isLost(
        IStorageMarket market,
        uint64 dataSetId
    ) internal view returns (bool lost, address provider) {
        if (dataSetId == 0 || dataSetId > market.dataSetCount()) return (true, address(0));
        IStorageMarket.DataSetView memory d = market.dataSet(dataSetId);
        return (d.status != IStorageMarket.Status.Live, d.provider);
    }

    /// @notice Largest reward a repair of a piece of `span` leaves may pay when the data set that lost it had
    ///         `collateralPerTiB`: half the termination fee on the collateral of the piece's class. Whoever ended
    ///         the data set lost at least the fee on its whole collateral, and the classes of the pieces of one
    ///         data set add up to at most twice its own class, so all repair rewards for its pieces together never
    ///         exceed what its provider lost.
    /// @param market The storage market.
    /// @param collateralPerTiB Collateral rate of the data set that lost the piece.
    /// @param span The piece's span (> 0).
    /// @return The cap.
    function rewardCap(
        IStorageMarket market,
        uint256 collateralPerTiB,
        uint64 span
    ) internal view returns (uint256) {
        uint256 locked = DataSetMath.collateral(collateralPerTiB, DataSetMath.classOf(span));
        return BasisPoints.share(locked, market.parameters().providerTerminationFeeBps) / 2;
    }

    /// @notice Escrow a new one-piece data set receives: its lockup (notice + 2 periods) plus `prepaidPeriods`.
    /// @param pricePerTiBMonth The data set's price.
    /// @param span The piece's span.
    /// @param noticePeriods The data set's notice.
    /// @param prepaidPeriods Periods paid ahead beyond the lockup.
    /// @param provingPeriod The market's proving period.
    /// @return The escrow.
    function escrowFor(
        uint256 pricePerTiBMonth,
        uint64 span,
        uint32 noticePeriods,
        uint32 prepaidPeriods,
        uint256 provingPeriod
    ) internal pure returns (uint256) {
        return
            DataSetMath.cost(
                pricePerTiBMonth,
                span,
                (uint256(noticePeriods) + 2 + prepaidPeriods) * provingPeriod
            );
    }
}
