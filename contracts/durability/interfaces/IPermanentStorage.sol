// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC1271 } from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";

/// @title IPermanentStorage
/// @notice Permanent files, paid once (docs/SPEC.md §16.2). The contract is the market client (ERC-1271 contract
///         wallet, approving only digests it built) of every data set holding a piece of a permanent file. An
///         uploader pays a quoted principal once; the principal is held per file and released under an immutable
///         schedule (`EndowmentMath`); each of the file's n pieces is placed, and re-placed when lost, through an
///         open offer where the cheapest price wins; data sets are topped up from the released principal; a file
///         with fewer than k live pieces is lost and what is left of its principal goes to the reserve.
interface IPermanentStorage is IERC1271 {
    /// @notice Immutable configuration, every field bounded in code (`PermanentParams`).
    /// @param referencePricePerTiBMonth Price per TiB-month at deployment; the quote assumes it declines by
    ///        `declineBps` a year from then on.
    /// @param declineBps Assumed yearly storage-cost decline.
    /// @param horizonYears Years paid for.
    /// @param dataShards k: pieces needed to rebuild a file.
    /// @param totalShards n: pieces stored (k data + n − k parity).
    /// @param repairAllowanceBps Share of the storage principal added for repairs.
    /// @param feeBps Share of the principal paid to the reserve at upload.
    /// @param maxPriceBps Highest offer as a share of the reference price of the day.
    /// @param collateralPerTiB Collateral rate of every permanent data set.
    /// @param noticePeriods Notice of every permanent data set.
    /// @param prepaidPeriods Proving periods of storage a data set is funded ahead.
    /// @param repairReward Reward to the provider of a re-placed piece (capped by `DurabilityRules.rewardCap`).
    /// @param offerWindow Seconds an open slot takes offers after the first one.
    struct Config {
        uint128 referencePricePerTiBMonth;
        uint16 declineBps;
        uint16 horizonYears;
        uint8 dataShards;
        uint8 totalShards;
        uint16 repairAllowanceBps;
        uint16 feeBps;
        uint32 maxPriceBps;
        uint128 collateralPerTiB;
        uint32 noticePeriods;
        uint32 prepaidPeriods;
        uint128 repairReward;
        uint32 offerWindow;
    }

    /// @notice Lifecycle of a permanent file.
    enum FileStatus {
        None,
        Pending,
        Active,
        Lost,
        Abandoned
    }

    /// @notice A permanent file.
    /// @param uploader Who paid.
    /// @param status Lifecycle status.
    /// @param livePieces Pieces held by a live data set that was proven holding them.
    /// @param pieceSpan Span of each piece (64-byte leaves).
    /// @param storedAt Upload time (the schedule's origin).
    /// @param piecesRoot Root of the piece list (`DurabilityRules.pieceLeaf` with data set 0).
    /// @param principal Principal paid.
    /// @param spent Principal spent (escrow, rewards) or moved to the reserve.
    struct File {
        address uploader;
        FileStatus status;
        uint8 livePieces;
        uint64 pieceSpan;
        uint64 storedAt;
        bytes32 piecesRoot;
        uint128 principal;
        uint128 spent;
    }

    /// @notice Stage of a piece slot.
    enum SlotStage {
        Open,
        Awarded,
        Placed,
        Live
    }

    /// @notice One piece of a file: its current holder and its open offer.
    /// @param stage Stage.
    /// @param replaced Whether the piece was placed before (a re-placement pays the repair reward).
    /// @param dataSetId Holding data set (Placed, Live).
    /// @param provider Best offer (Open), winner (Awarded, Placed, Live).
    /// @param price Best or winning price per TiB-month.
    /// @param deadline Open: offers close; Awarded: latest placement; Placed: latest proof.
    /// @param barredUntil Until when `lastProvider` may not offer for it (one offer window after the loss; then it may,
    ///        so a slot whose only eligible provider lost it is not closed for good).
    /// @param lastProvider The provider that lost it last.
    /// @param pieceRoot The piece commitment (known once placed).
    // Read by people; packed by use.
    // solhint-disable-next-line gas-struct-packing
    struct Slot {
        SlotStage stage;
        bool replaced;
        uint64 dataSetId;
        address provider;
        uint128 price;
        uint64 deadline;
        uint64 barredUntil;
        address lastProvider;
        bytes32 pieceRoot;
    }

    /// @notice A file's public solvency.
    /// @param principalLeft Principal not yet spent.
    /// @param releasedLeft Released principal not yet spent.
    /// @param yearsCovered Years the principal left pays for the live pieces at their prices under the assumed
    ///        decline (capped at the horizon).
    /// @param livePieces Pieces live.
    /// @param status The file's status.
    struct Solvency {
        uint256 principalLeft;
        uint256 releasedLeft;
        uint256 yearsCovered;
        uint256 livePieces;
        FileStatus status;
    }

    /// @notice A permanent file was paid for.
    /// @param fileId The file.
    /// @param uploader Who paid.
    /// @param piecesRoot Its piece-list root.
    /// @param pieceSpan Span of each piece.
    /// @param principal Principal held.
    /// @param fee Fee to the reserve.
    event FileStored(
        uint256 indexed fileId,
        address indexed uploader,
        bytes32 piecesRoot,
        uint64 pieceSpan,
        uint256 principal,
        uint256 fee
    );
    /// @notice A provider made the best offer for a slot.
    /// @param fileId The file.
    /// @param index The piece.
    /// @param provider The provider.
    /// @param price Its price per TiB-month.
    /// @param closesAt When offers close.
    event OfferMade(
        uint256 indexed fileId,
        uint32 indexed index,
        address indexed provider,
        uint256 price,
        uint64 closesAt
    );
    /// @notice A slot's best offer lapsed at award because its provider won another piece of the file meanwhile;
    ///         the slot takes offers again.
    /// @param fileId The file.
    /// @param index The piece.
    /// @param provider The provider whose offer lapsed.
    event OfferLapsed(uint256 indexed fileId, uint32 indexed index, address indexed provider);
    /// @notice A slot was awarded; the winner may create the data set with `terms` (any signature).
    /// @param fileId The file.
    /// @param index The piece.
    /// @param terms The creation terms approved.
    event SlotAwarded(uint256 indexed fileId, uint32 indexed index, IStorageMarket.CreateDataSet terms);
    /// @notice A piece was placed in a data set, funded; its provider may apply `state` (any signature).
    /// @param fileId The file.
    /// @param index The piece.
    /// @param state The only state approved for the data set.
    /// @param escrow Escrow funded from the principal.
    event PiecePlaced(
        uint256 indexed fileId,
        uint32 indexed index,
        IStorageMarket.DataSetState state,
        uint256 escrow
    );
    /// @notice A placed piece was proven; it counts as live.
    /// @param fileId The file.
    /// @param index The piece.
    /// @param dataSetId Its data set.
    /// @param reward Repair reward credited to the provider (0 at first placement).
    event PieceLive(uint256 indexed fileId, uint32 indexed index, uint64 dataSetId, uint256 reward);
    /// @notice A piece's data set was topped up from the principal.
    /// @param fileId The file.
    /// @param index The piece.
    /// @param amount Tokens.
    event PieceRenewed(uint256 indexed fileId, uint32 indexed index, uint256 amount);
    /// @notice A piece was lost (its data set is not live, or an award or placement timed out); offers reopen.
    /// @param fileId The file.
    /// @param index The piece.
    /// @param provider The provider that lost it (0 when none).
    event PieceLost(uint256 indexed fileId, uint32 indexed index, address provider);
    /// @notice A file fell below k live pieces; its principal left went to the reserve.
    /// @param fileId The file.
    /// @param toReserve Principal moved.
    event FileLost(uint256 indexed fileId, uint256 toReserve);
    /// @notice A file never reached k live pieces in time; its principal left is owed to the uploader.
    /// @param fileId The file.
    /// @param refund Principal refunded.
    event FileAbandoned(uint256 indexed fileId, uint256 refund);
    /// @notice Tokens held beyond every file's principal, the reserve and what is owed (refunds and compensation
    ///         of ended data sets) were added to the reserve.
    /// @param amount Tokens.
    event ReserveSwept(uint256 amount);
    /// @notice The reserve was paid to its recipient.
    /// @param to The recipient.
    /// @param amount Tokens.
    event ReserveReleased(address indexed to, uint256 amount);
    /// @notice An account withdrew what it was owed.
    /// @param account The account.
    /// @param amount Tokens.
    event OwedWithdrawn(address indexed account, uint256 amount);

    /// @notice A configuration field is out of bounds.
    error PermanentConfigOutOfBounds(string name, uint256 value, uint256 min, uint256 max);
    /// @notice The quote exceeds what the uploader accepted.
    error PermanentQuoteAboveMax(uint256 quote, uint256 maxPayment);
    /// @notice The piece span is zero or above the market's largest data set.
    error PermanentBadSpan(uint64 span);
    /// @notice The file does not exist or is not in a status this needs.
    error PermanentWrongFileStatus(uint256 fileId, FileStatus status);
    /// @notice The piece index is outside the file.
    error PermanentBadIndex(uint32 index, uint256 totalShards);
    /// @notice The slot is not in the stage this needs.
    error PermanentWrongStage(uint256 fileId, uint32 index, SlotStage stage);
    /// @notice Offers for the slot are closed, or not yet.
    error PermanentOfferWindow(uint256 fileId, uint32 index, uint64 closesAt);
    /// @notice The offer is not below the best one or above the ceiling.
    error PermanentOfferRejected(uint256 price, uint256 best, uint256 ceiling);
    /// @notice The provider may not offer (not registered, lost this piece less than an offer window ago, or already
    ///         holds a piece of the file).
    error PermanentProviderRefused(address provider);
    /// @notice The piece is not in the file's list.
    error PermanentUnknownPiece(uint32 index, bytes32 pieceRoot);
    /// @notice The data set does not match the award, or is used already.
    error PermanentDataSetMismatch(uint64 dataSetId);
    /// @notice The piece's data set does not hold it proven yet.
    error PermanentNotProven(uint64 dataSetId);
    /// @notice The released principal does not cover the amount.
    error PermanentScheduleShort(uint256 fileId, uint256 available, uint256 needed);
    /// @notice The data set still holds enough escrow ahead.
    error PermanentRenewalNotDue(uint64 dataSetId, uint256 ahead, uint256 threshold);
    /// @notice The piece is still held, or the slot's deadline has not passed.
    error PermanentPieceNotLost(uint256 fileId, uint32 index);
    /// @notice Nothing to withdraw or release.
    error PermanentNothingOwed(address account);

    /// @notice One-time price of a file of `totalShards` pieces of `pieceSpan` leaves stored now: each piece is
    ///         charged for at least `DurabilityRules.MIN_CHARGED_SPAN` leaves (256 KiB).
    /// @param pieceSpan Span of each piece (64-byte leaves).
    /// @return principal Principal held for the file.
    /// @return fee Fee to the reserve.
    function quote(uint64 pieceSpan) external view returns (uint256 principal, uint256 fee);

    /// @notice Pay once for a permanent file (pulls principal + fee from the caller, exact amount).
    /// @param piecesRoot Root of the piece list (leaves `(index, pieceRoot, pieceSpan, 0)`, n pieces).
    /// @param pieceSpan Span of each piece.
    /// @param maxPayment Most the caller accepts to pay (principal + fee).
    /// @return fileId The file.
    function storePermanent(
        bytes32 piecesRoot,
        uint64 pieceSpan,
        uint256 maxPayment
    ) external returns (uint256 fileId);

    /// @notice A registered provider offers to hold piece `index` at `price` (open slot only; must beat the best
    ///         offer; at most the ceiling). The first offer opens an `offerWindow`. The provider that lost the piece
    ///         may offer again once an offer window has passed since the loss.
    /// @param fileId The file.
    /// @param index The piece.
    /// @param price Price per TiB-month.
    function offer(uint256 fileId, uint32 index, uint128 price) external;

    /// @notice Award a slot to its cheapest offer once offers closed (anyone): approves the creation digest. When
    ///         the winner holds another piece of the file by then, its offer lapses instead (`OfferLapsed`) and the
    ///         slot takes offers again. Reverts `PermanentScheduleShort` while the file's released principal cannot
    ///         fund the winning offer's placement escrow: the slot keeps its best offer until more is released.
    /// @param fileId The file.
    /// @param index The piece.
    function award(uint256 fileId, uint32 index) external;

    /// @notice Bind the winner's new data set to the piece (anyone): checks its terms and the piece's list proof,
    ///         approves the state holding exactly the piece, funds the escrow from the released principal.
    /// @param fileId The file.
    /// @param index The piece.
    /// @param pieceRoot The piece commitment.
    /// @param proof Its proof in the piece list.
    /// @param dataSetId The data set.
    function place(
        uint256 fileId,
        uint32 index,
        bytes32 pieceRoot,
        bytes32[] calldata proof,
        uint64 dataSetId
    ) external;

    /// @notice Count a placed piece as live once its data set was paid for a proven period holding it (anyone);
    ///         a re-placement credits the repair reward to the provider.
    /// @param fileId The file.
    /// @param index The piece.
    function confirm(uint256 fileId, uint32 index) external;

    /// @notice Top up a live piece's data set to `prepaidPeriods` ahead once less than half is left (anyone).
    /// @param fileId The file.
    /// @param index The piece.
    function renew(uint256 fileId, uint32 index) external;

    /// @notice Record that a piece is lost (anyone): a live or placed piece whose data set is not live, an award
    ///         not placed, or a placement not proven by its deadline. Reopens offers; a file below k live pieces
    ///         (after it reached k) is lost.
    /// @param fileId The file.
    /// @param index The piece.
    function reportLost(uint256 fileId, uint32 index) external;

    /// @notice A file still pending 30 days after upload is abandoned (anyone): its principal left is owed to the
    ///         uploader.
    /// @param fileId The file.
    function abandon(uint256 fileId) external;

    /// @notice Add tokens held beyond every obligation (ended data sets' refunds and compensation) to the reserve.
    function sweep() external;

    /// @notice Pay the reserve to its recipient (anyone).
    function releaseReserve() external;

    /// @notice Withdraw what the caller is owed (rewards, refunds).
    function withdrawOwed() external;

    /// @notice The configuration.
    function config() external view returns (Config memory);
    /// @notice Receiver of the reserve (immutable).
    function reserveRecipient() external view returns (address);
    /// @notice A file.
    /// @param fileId The file.
    function file(uint256 fileId) external view returns (File memory);
    /// @notice A slot.
    /// @param fileId The file.
    /// @param index The piece.
    function slot(uint256 fileId, uint32 index) external view returns (Slot memory);
    /// @notice Number of files (ids 1..count).
    function fileCount() external view returns (uint256);
    /// @notice A file's solvency.
    /// @param fileId The file.
    function solvency(uint256 fileId) external view returns (Solvency memory);
    /// @notice The reference price per TiB-month of today (declined from deployment by the assumption).
    function referencePrice() external view returns (uint256);
    /// @notice Principal a file may have spent by now.
    /// @param fileId The file.
    function releasedOf(uint256 fileId) external view returns (uint256);
    /// @notice The reserve.
    function reserve() external view returns (uint256);
    /// @notice What `account` is owed.
    /// @param account The account.
    function owed(address account) external view returns (uint256);
}
