// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC1271 } from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";

/// @title IRepairMandate
/// @notice One file's repair mandate (docs/SPEC.md §16): a contract wallet, opened by `RepairMandateFactory` on its
///         owner's EIP-712 signature, that holds the repair budget and acts as the market client of every data set
///         made to repair the file. When a piece of the file is lost (the data set holding it is no longer live),
///         anyone may repair it: `openRepair` fixes the terms and approves (ERC-1271) exactly the creation digest of
///         the new data set; the chosen provider creates it; `bindRepair` approves exactly the state holding the
///         lost piece's commitment and funds the escrow; once the provider has proven a period holding it,
///         `claimRepair` credits the repairer's reward. The owner's own signatures are valid for the wallet too,
///         so the owner may open the file's data sets with the wallet as client: their refunds and slashing
///         compensation then land in the budget.
interface IRepairMandate is IERC1271 {
    /// @notice What an owner signs (EIP-712 type `RepairMandate`, domain of the factory).
    /// @param owner The file's owner; the signer; receives what is left of the budget.
    /// @param piecesRoot Merkle root (OpenZeppelin `MerkleProof`, double keccak) over the file's piece leaves
    ///        `(index, pieceRoot, span, dataSetId)` (see `DurabilityRules.pieceLeaf`).
    /// @param pieceCount Number of pieces (k + m).
    /// @param priceCeiling Highest price per TiB-month a repair data set may have.
    /// @param collateralFloor Lowest collateral per TiB a repair data set may have.
    /// @param noticePeriods Notice of repair data sets.
    /// @param prepaidPeriods Proving periods of storage paid into a repair data set beyond its lockup.
    /// @param repairReward Reward per repair (capped on chain, see `DurabilityRules.rewardCap`).
    /// @param budget Tokens pulled from the owner when the mandate opens.
    /// @param excluded Providers never chosen for a repair (at most `MAX_EXCLUDED`).
    /// @param nonce Owner nonce at the factory (each used once).
    /// @param deadline Latest timestamp at which the mandate may be opened.
    // The EIP-712 type fixes the field order.
    // solhint-disable-next-line gas-struct-packing
    struct Terms {
        address owner;
        bytes32 piecesRoot;
        uint32 pieceCount;
        uint128 priceCeiling;
        uint128 collateralFloor;
        uint32 noticePeriods;
        uint32 prepaidPeriods;
        uint128 repairReward;
        uint128 budget;
        address[] excluded;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice A lost piece, as named in the piece list.
    /// @param index Position in the file.
    /// @param pieceRoot Piece commitment.
    /// @param span Span in 64-byte leaves.
    /// @param dataSetId The data set that first held it.
    // The piece-list leaf fixes the field order.
    // solhint-disable-next-line gas-struct-packing
    struct Piece {
        uint32 index;
        bytes32 pieceRoot;
        uint64 span;
        uint64 dataSetId;
    }

    /// @notice Stage of a repair.
    enum Stage {
        None,
        Open,
        Bound,
        Claimed,
        Cancelled
    }

    /// @notice A repair's record.
    /// @param stage Its stage.
    /// @param index The piece's position.
    /// @param span The piece's span.
    /// @param deadline Open: latest creation + binding time; Bound: latest time for the first proven period.
    /// @param dataSetId The new data set (0 until bound).
    /// @param repairer Who opened it (receives the reward).
    /// @param provider The new provider.
    /// @param pieceRoot The piece commitment the new data set must hold.
    /// @param price Price per TiB-month of the new data set.
    /// @param collateral Collateral per TiB of the new data set.
    /// @param reward Reward reserved for the repairer.
    /// @param escrow Escrow reserved for the new data set.
    // A record read by people; packing follows the stage flow.
    // solhint-disable-next-line gas-struct-packing
    struct Repair {
        Stage stage;
        uint32 index;
        uint64 span;
        uint64 deadline;
        uint64 dataSetId;
        address repairer;
        address provider;
        bytes32 pieceRoot;
        uint128 price;
        uint128 collateral;
        uint128 reward;
        uint128 escrow;
    }

    /// @notice A repair was opened; the provider may now create the data set with `terms` (any signature).
    /// @param repairId The repair.
    /// @param index The piece's position.
    /// @param repairer Who opened it.
    /// @param terms The creation terms the wallet approves.
    /// @param reward Reward reserved.
    /// @param escrow Escrow reserved.
    event RepairOpened(
        uint256 indexed repairId,
        uint32 indexed index,
        address indexed repairer,
        IStorageMarket.CreateDataSet terms,
        uint256 reward,
        uint256 escrow
    );
    /// @notice A repair's data set was bound and funded; its provider may now apply `state` (any signature).
    /// @param repairId The repair.
    /// @param dataSetId The new data set.
    /// @param state The only state the wallet approves for it.
    event RepairBound(uint256 indexed repairId, uint64 indexed dataSetId, IStorageMarket.DataSetState state);
    /// @notice A repair was proven and its reward credited.
    /// @param repairId The repair.
    /// @param repairer Who is owed the reward.
    /// @param reward The reward.
    event RepairClaimed(uint256 indexed repairId, address indexed repairer, uint256 reward);
    /// @notice A repair timed out; its reservation returned to the budget (a bound data set is terminated).
    /// @param repairId The repair.
    event RepairCancelled(uint256 indexed repairId);
    /// @notice Tokens were added to the budget.
    /// @param from Who paid.
    /// @param amount Tokens.
    event BudgetFunded(address indexed from, uint256 amount);
    /// @notice The owner took tokens out of the free budget.
    /// @param amount Tokens.
    event BudgetWithdrawn(uint256 amount);
    /// @notice A repairer withdrew its rewards.
    /// @param repairer The repairer.
    /// @param amount Tokens.
    event RewardWithdrawn(address indexed repairer, uint256 amount);
    /// @notice The owner closed the mandate: no new repairs.
    event MandateClosed();

    /// @notice The caller is not the factory.
    error MandateNotFactory(address caller);
    /// @notice The caller is not the owner.
    error MandateNotOwner(address caller);
    /// @notice The mandate is closed.
    error MandateIsClosed();
    /// @notice The piece is not in the file's piece list.
    error MandateUnknownPiece(uint32 index, bytes32 pieceRoot);
    /// @notice The piece's data set is still live.
    error MandatePieceNotLost(uint32 index, uint64 dataSetId);
    /// @notice A repair of the piece is already under way.
    error MandateRepairPending(uint32 index, uint256 repairId);
    /// @notice The price is above the ceiling.
    error MandatePriceAboveCeiling(uint256 price, uint256 ceiling);
    /// @notice The collateral is below the floor.
    error MandateCollateralBelowFloor(uint256 collateral, uint256 floor);
    /// @notice The provider is excluded (by the owner, or because it held the lost piece).
    error MandateProviderExcluded(address provider);
    /// @notice The free budget does not cover the reservation or withdrawal.
    error MandateBudgetShort(uint256 free, uint256 needed);
    /// @notice The repair is not in the stage this needs.
    error MandateWrongStage(uint256 repairId, Stage stage);
    /// @notice The data set does not match the repair's terms, or is already bound.
    error MandateDataSetMismatch(uint256 repairId, uint64 dataSetId);
    /// @notice The repair's data set does not yet hold the piece proven.
    error MandateNotProven(uint256 repairId, uint64 dataSetId);
    /// @notice The repair's deadline has not passed.
    error MandateNotExpired(uint256 repairId, uint64 deadline);
    /// @notice The repair's deadline has passed.
    error MandateExpired(uint256 repairId, uint64 deadline);
    /// @notice The data set is held by an unclaimed repair: the owner may not act on it.
    error MandateDataSetInRepair(uint64 dataSetId, uint256 repairId);
    /// @notice Nothing to withdraw.
    error MandateNothingOwed(address repairer);

    /// @notice Set the terms of a fresh clone. Factory only, once.
    /// @param terms The signed terms.
    function initialize(Terms calldata terms) external;

    /// @notice Open a repair of a lost piece onto `provider` at `price` and `collateral` (anyone: the repairer).
    ///         Reserves the capped reward and the new data set's escrow, and approves the creation digest of
    ///         `{client: this, provider, price, collateral, noticePeriods, nonce: 2^63 + repairId, deadline}`.
    /// @param piece The lost piece, as in the piece list.
    /// @param proof Its Merkle proof in the piece list (at most 32 hashes).
    /// @param provider The new provider (not excluded, not the provider that lost it).
    /// @param price Price per TiB-month (at most the ceiling).
    /// @param collateral Collateral per TiB (at least the floor).
    /// @return repairId The repair.
    function openRepair(
        Piece calldata piece,
        bytes32[] calldata proof,
        address provider,
        uint128 price,
        uint128 collateral
    ) external returns (uint256 repairId);

    /// @notice Bind the data set the provider created for an open repair (anyone): it must have this wallet as
    ///         client, the repair's terms, and no state yet. Approves the state `{dataSetId, 1, pieceRoot, span}`,
    ///         funds the reserved escrow and records the data set as the piece's holder.
    /// @param repairId The repair.
    /// @param dataSetId The new data set.
    function bindRepair(uint256 repairId, uint64 dataSetId) external;

    /// @notice Credit the repairer's reward once the new data set is live, holds exactly the piece and has been
    ///         paid for at least one proven period (anyone).
    /// @param repairId The repair.
    function claimRepair(uint256 repairId) external;

    /// @notice Cancel a repair past its deadline (anyone): an open one that was not bound, or a bound one whose
    ///         data set was not proven holding the piece (the wallet terminates it). The reservation returns.
    /// @param repairId The repair.
    function cancelRepair(uint256 repairId) external;

    /// @notice Add `amount` to the budget from the caller's allowance (anyone; exact amount).
    /// @param amount Tokens.
    function fund(uint256 amount) external;

    /// @notice Owner: take `amount` of the free budget.
    /// @param amount Tokens.
    function withdraw(uint256 amount) external;

    /// @notice Owner: no new repairs (open ones run to their end).
    function close() external;

    /// @notice Repairer: withdraw credited rewards.
    function withdrawRewards() external;

    /// @notice Owner: terminate one of the wallet's data sets (not one held by an unclaimed repair).
    /// @param dataSetId The data set.
    function terminateDataSet(uint64 dataSetId) external;

    /// @notice Owner: authorise a session key on the wallet's data sets (see `IStorageMarket.authorizeSessionKey`).
    /// @param key The key.
    /// @param scope Its scope.
    function authorizeSessionKey(address key, IStorageMarket.SessionKey calldata scope) external;

    /// @notice The market.
    function market() external view returns (IStorageMarket);
    /// @notice The terms.
    function terms() external view returns (Terms memory);
    /// @notice Whether the owner closed the mandate.
    function closed() external view returns (bool);
    /// @notice Budget not reserved for repairs nor owed to repairers (tokens held plus market balance).
    function freeBudget() external view returns (uint256);
    /// @notice A repair's record.
    /// @param repairId The repair.
    function repair(uint256 repairId) external view returns (Repair memory);
    /// @notice Number of repairs opened (ids are 1..count).
    function repairCount() external view returns (uint256);
    /// @notice The data set now holding piece `index` (0 = the one named in the piece list).
    /// @param index The piece's position.
    function holderOf(uint32 index) external view returns (uint64);
    /// @notice The open or bound repair of piece `index` (0 = none).
    /// @param index The piece's position.
    function pendingRepairOf(uint32 index) external view returns (uint256);
    /// @notice Rewards credited to `repairer` and not yet withdrawn.
    /// @param repairer The repairer.
    function rewardsOwed(address repairer) external view returns (uint256);
}
