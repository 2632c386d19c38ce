// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { MerkleProof } from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { IStorageMarket } from "../interfaces/IStorageMarket.sol";
import { BasisPoints } from "../payments/libraries/BasisPoints.sol";
import { ExactPull } from "../payments/libraries/ExactPull.sol";
import { DataSetMath } from "../storage/libraries/DataSetMath.sol";
import { IPermanentStorage } from "./interfaces/IPermanentStorage.sol";
import { DurabilityRules } from "./libraries/DurabilityRules.sol";
import { MarketWallet } from "./libraries/MarketWallet.sol";
import { EndowmentMath } from "./libraries/EndowmentMath.sol";

/// @title PermanentStorage
/// @notice Permanent files paid once into a per-file endowment; see `IPermanentStorage` and docs/SPEC.md §16.2.
contract PermanentStorage is IPermanentStorage, ReentrancyGuardTransient {
    using ExactPull for IERC20;

    /// @notice Time after upload within which a file must reach k live pieces, else it may be abandoned.
    uint256 public constant PENDING_LIMIT = 30 days;
    /// @notice Time an awarded provider has to create its data set and have it placed.
    uint256 public constant PLACEMENT_WINDOW = 1 days;
    /// @notice Proving periods after placement within which the piece must be proven.
    uint256 public constant PROOF_GRACE_PERIODS = 4;

    IStorageMarket private immutable _market;
    IERC20 private immutable _token;
    uint256 private immutable _deployedAt;
    address private immutable _reserveRecipient;
    Config private _config;

    uint256 private _fileCount;
    uint64 private _nonce;
    uint256 private _reserve;
    /// @dev Σ principal left of pending and active files + reserve + Σ owed: what the holdings must cover.
    uint256 private _obligations;
    mapping(uint256 fileId => File) private _files;
    mapping(uint256 fileId => mapping(uint32 index => Slot)) private _slots;
    mapping(uint256 fileId => mapping(address provider => bool)) private _holds;
    mapping(uint64 dataSetId => bool) private _used;
    mapping(address account => uint256) private _owed;
    mapping(bytes32 digest => bool) private _approved;

    /// @param market_ The storage market.
    /// @param config_ The configuration (immutable; every field checked against its bounds).
    /// @param reserveRecipient_ Receiver of the reserve (for instance the treasury).
    constructor(IStorageMarket market_, Config memory config_, address reserveRecipient_) {
        if (reserveRecipient_ == address(0)) revert PermanentConfigOutOfBounds("reserveRecipient", 0, 1, 0);
        _reserveRecipient = reserveRecipient_;
        _market = market_;
        _token = IERC20(market_.paymentToken());
        _deployedAt = block.timestamp;
        _validate(config_, market_.parameters().maxNoticePeriods);
        _config = config_;
    }

    // ------------------------------------------------------------------ upload

    /// @inheritdoc IPermanentStorage
    function quote(uint64 pieceSpan) public view returns (uint256 principal, uint256 fee) {
        Config storage c = _config;
        // Each piece is charged on its own (rounded up, as each placement is) and for at least MIN_CHARGED_SPAN.
        uint256 charged =
            pieceSpan < DurabilityRules.MIN_CHARGED_SPAN ? DurabilityRules.MIN_CHARGED_SPAN : pieceSpan;
        uint256 yearCost = DataSetMath.cost(referencePrice(), charged, EndowmentMath.YEAR) * c.totalShards;
        principal = EndowmentMath.principalFor(yearCost, c.declineBps, c.horizonYears, c.repairAllowanceBps);
        fee = BasisPoints.share(principal, c.feeBps);
    }

    /// @inheritdoc IPermanentStorage
    function storePermanent(
        bytes32 piecesRoot,
        uint64 pieceSpan,
        uint256 maxPayment
    ) external nonReentrant returns (uint256 fileId) {
        if (pieceSpan == 0 || uint256(pieceSpan) * 64 > _market.parameters().maxDataSetSize) {
            revert PermanentBadSpan(pieceSpan);
        }
        (uint256 principal, uint256 fee) = quote(pieceSpan);
        if (principal + fee > maxPayment) revert PermanentQuoteAboveMax(principal + fee, maxPayment);
        fileId = ++_fileCount;
        _files[fileId] = File({
            uploader: msg.sender,
            status: FileStatus.Pending,
            livePieces: 0,
            pieceSpan: pieceSpan,
            storedAt: uint64(block.timestamp),
            piecesRoot: piecesRoot,
            principal: uint128(principal),
            spent: 0
        });
        _reserve += fee;
        _obligations += principal + fee;
        emit FileStored(fileId, msg.sender, piecesRoot, pieceSpan, principal, fee);
        _token.pull(msg.sender, principal + fee);
    }

    // ------------------------------------------------------------------ placement

    /// @inheritdoc IPermanentStorage
    function offer(uint256 fileId, uint32 index, uint128 price) external {
        _fileInBusiness(fileId);
        Slot storage s = _slot(fileId, index);
        if (s.stage != SlotStage.Open) revert PermanentWrongStage(fileId, index, s.stage);
        uint64 closesAt = s.deadline;
        if (closesAt != 0 && block.timestamp > closesAt) revert PermanentOfferWindow(fileId, index, closesAt);
        if (
            (msg.sender == s.lastProvider && block.timestamp <= s.barredUntil) ||
            _holds[fileId][msg.sender] ||
            !IProviderRegistry(_market.registry()).isRegistered(msg.sender)
        ) revert PermanentProviderRefused(msg.sender);
        uint256 ceiling = BasisPoints.share(referencePrice(), _config.maxPriceBps);
        uint256 best = s.price;
        if (price == 0 || price > ceiling || (best != 0 && price >= best)) {
            revert PermanentOfferRejected(price, best, ceiling);
        }
        if (closesAt == 0) {
            closesAt = uint64(block.timestamp + _config.offerWindow);
            s.deadline = closesAt;
        }
        s.provider = msg.sender;
        s.price = price;
        emit OfferMade(fileId, index, msg.sender, price, closesAt);
    }

    /// @inheritdoc IPermanentStorage
    function award(uint256 fileId, uint32 index) external {
        File storage f = _fileInBusiness(fileId);
        Slot storage s = _slot(fileId, index);
        if (s.stage != SlotStage.Open || s.price == 0) revert PermanentWrongStage(fileId, index, s.stage);
        if (block.timestamp <= s.deadline) revert PermanentOfferWindow(fileId, index, s.deadline);
        // A provider that won another piece of the file meanwhile cannot hold two of them: its offer lapses and
        // the slot takes offers again (a revert would close the slot to offers for good).
        address winner = s.provider;
        if (_holds[fileId][winner]) {
            s.provider = address(0);
            s.price = 0;
            s.deadline = 0;
            emit OfferLapsed(fileId, index, winner);
            return;
        }
        // A winner creates a data set (and locks collateral) for its award: award only what the file's release can
        // fund now; otherwise the slot keeps its best offer until the schedule releases more.
        _requireReleased(fileId, f, _placementEscrow(f, s));
        s.stage = SlotStage.Awarded;
        s.deadline = uint64(block.timestamp + PLACEMENT_WINDOW);
        _holds[fileId][s.provider] = true;
        IStorageMarket.CreateDataSet memory terms = _createTerms(s, ++_nonce);
        _approved[_market.createDigest(terms)] = true;
        emit SlotAwarded(fileId, index, terms);
    }

    /// @inheritdoc IPermanentStorage
    function place(
        uint256 fileId,
        uint32 index,
        bytes32 pieceRoot,
        bytes32[] calldata proof,
        uint64 dataSetId
    ) external nonReentrant {
        File storage f = _fileInBusiness(fileId);
        Slot storage s = _slot(fileId, index);
        if (s.stage != SlotStage.Awarded) revert PermanentWrongStage(fileId, index, s.stage);
        if (block.timestamp > s.deadline) revert PermanentOfferWindow(fileId, index, s.deadline);
        if (
            proof.length > DurabilityRules.MAX_PROOF_LENGTH ||
            !MerkleProof.verifyCalldata(
                proof,
                f.piecesRoot,
                DurabilityRules.pieceLeaf(index, pieceRoot, f.pieceSpan, 0)
            )
        ) revert PermanentUnknownPiece(index, pieceRoot);
        _checkAwardedDataSet(s, dataSetId);
        uint256 escrow = _placementEscrow(f, s);
        _spend(fileId, f, escrow);
        _used[dataSetId] = true;
        s.stage = SlotStage.Placed;
        s.dataSetId = dataSetId;
        s.pieceRoot = pieceRoot;
        s.deadline = uint64(block.timestamp + PROOF_GRACE_PERIODS * _market.provingPeriod());
        IStorageMarket.DataSetState memory state = IStorageMarket.DataSetState({
            dataSetId: dataSetId,
            version: 1,
            root: pieceRoot,
            span: f.pieceSpan
        });
        _approved[_market.stateDigest(state)] = true;
        emit PiecePlaced(fileId, index, state, escrow);
        MarketWallet.fundDataSet(_market, _token, dataSetId, escrow);
    }

    /// @inheritdoc IPermanentStorage
    function confirm(uint256 fileId, uint32 index) external nonReentrant {
        File storage f = _fileInBusiness(fileId);
        Slot storage s = _slot(fileId, index);
        if (s.stage != SlotStage.Placed) revert PermanentWrongStage(fileId, index, s.stage);
        uint64 id = s.dataSetId;
        // Account the proven periods first (anyone may settle; a settlement that cannot run changes nothing).
        try _market.settleDataSet(id) {} catch {} // solhint-disable-line no-empty-blocks
        IStorageMarket.DataSetView memory d = _market.dataSet(id);
        if (
            d.status != IStorageMarket.Status.Live ||
            d.root != s.pieceRoot ||
            d.span != f.pieceSpan ||
            d.leafSeconds == 0
        ) revert PermanentNotProven(id);
        s.stage = SlotStage.Live;
        ++f.livePieces;
        if (f.status == FileStatus.Pending && f.livePieces >= _config.dataShards)
            f.status = FileStatus.Active;
        uint256 reward;
        if (s.replaced) {
            reward = DurabilityRules.rewardCap(_market, _config.collateralPerTiB, f.pieceSpan);
            if (_config.repairReward < reward) reward = _config.repairReward;
            uint256 available = _releasedLeft(f);
            if (available < reward) reward = available;
            // The reward stays an obligation: it moves from the file's principal to the provider's credit.
            f.spent += uint128(reward);
            _owed[s.provider] += reward;
        }
        emit PieceLive(fileId, index, id, reward);
    }

    /// @inheritdoc IPermanentStorage
    function renew(uint256 fileId, uint32 index) external nonReentrant {
        File storage f = _fileInBusiness(fileId);
        Slot storage s = _slot(fileId, index);
        if (s.stage != SlotStage.Live) revert PermanentWrongStage(fileId, index, s.stage);
        uint64 id = s.dataSetId;
        uint256 ahead = _market.withdrawableEscrow(id);
        uint256 target = DataSetMath.cost(
            s.price,
            f.pieceSpan,
            uint256(_config.prepaidPeriods) * _market.provingPeriod()
        );
        if (ahead >= target / 2) revert PermanentRenewalNotDue(id, ahead, target / 2);
        uint256 amount = target - ahead;
        _spend(fileId, f, amount);
        emit PieceRenewed(fileId, index, amount);
        MarketWallet.fundDataSet(_market, _token, id, amount);
    }

    /// @inheritdoc IPermanentStorage
    function reportLost(uint256 fileId, uint32 index) external nonReentrant {
        File storage f = _fileInBusiness(fileId);
        Slot storage s = _slot(fileId, index);
        SlotStage stage = s.stage;
        uint64 id = s.dataSetId;
        bool lost;
        bool terminate;
        if (stage == SlotStage.Awarded) {
            lost = block.timestamp > s.deadline;
        } else if (stage == SlotStage.Placed || stage == SlotStage.Live) {
            (lost, ) = DurabilityRules.isLost(_market, id);
            if (!lost && stage == SlotStage.Placed && block.timestamp > s.deadline) {
                lost = true;
                terminate = true;
            }
        }
        if (!lost) revert PermanentPieceNotLost(fileId, index);
        address provider = s.provider;
        _holds[fileId][provider] = false;
        s.lastProvider = provider;
        // Others come first; after one offer window the last provider may offer too (with exactly n providers it is
        // the only one that holds no other piece of the file).
        s.barredUntil = uint64(block.timestamp + _config.offerWindow);
        s.provider = address(0);
        s.price = 0;
        s.deadline = 0;
        s.dataSetId = 0;
        s.stage = SlotStage.Open;
        if (stage == SlotStage.Live) {
            s.replaced = true;
            --f.livePieces;
        }
        emit PieceLost(fileId, index, provider);
        if (f.status == FileStatus.Active && f.livePieces < _config.dataShards) {
            uint256 left = f.principal - f.spent;
            f.spent = f.principal;
            f.status = FileStatus.Lost;
            _reserve += left;
            emit FileLost(fileId, left);
        }
        // A placement never proven ends; its escrow returns at closing (swept into the reserve).
        if (terminate) _market.terminateDataSet(id);
    }

    /// @inheritdoc IPermanentStorage
    function abandon(uint256 fileId) external {
        File storage f = _files[fileId];
        if (f.status != FileStatus.Pending || block.timestamp <= uint256(f.storedAt) + PENDING_LIMIT) {
            revert PermanentWrongFileStatus(fileId, f.status);
        }
        uint256 left = f.principal - f.spent;
        f.spent = f.principal;
        f.status = FileStatus.Abandoned;
        _owed[f.uploader] += left;
        emit FileAbandoned(fileId, left);
    }

    // ------------------------------------------------------------------ money

    /// @inheritdoc IPermanentStorage
    function sweep() external nonReentrant {
        uint256 held = _holdings();
        uint256 surplus = held > _obligations ? held - _obligations : 0;
        if (surplus == 0) revert PermanentNothingOwed(address(this));
        _reserve += surplus;
        _obligations += surplus;
        emit ReserveSwept(surplus);
    }

    /// @inheritdoc IPermanentStorage
    function releaseReserve() external nonReentrant {
        uint256 amount = _reserve;
        address to = _reserveRecipient;
        if (amount == 0) revert PermanentNothingOwed(to);
        _reserve = 0;
        _obligations -= amount;
        emit ReserveReleased(to, amount);
        MarketWallet.payOut(_market, _token, to, amount);
    }

    /// @inheritdoc IPermanentStorage
    function withdrawOwed() external nonReentrant {
        uint256 amount = _owed[msg.sender];
        if (amount == 0) revert PermanentNothingOwed(msg.sender);
        delete _owed[msg.sender];
        _obligations -= amount;
        emit OwedWithdrawn(msg.sender, amount);
        MarketWallet.payOut(_market, _token, msg.sender, amount);
    }

    /// @notice ERC-1271: valid only for a creation or state digest this contract built for a placement.
    /// @param hash The digest.
    /// @return The ERC-1271 magic value when approved, else 0.
    function isValidSignature(bytes32 hash, bytes calldata) external view returns (bytes4) {
        return _approved[hash] ? this.isValidSignature.selector : bytes4(0);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IPermanentStorage
    function config() external view returns (Config memory) {
        return _config;
    }

    /// @inheritdoc IPermanentStorage
    function reserveRecipient() external view returns (address) {
        return _reserveRecipient;
    }

    /// @inheritdoc IPermanentStorage
    function file(uint256 fileId) external view returns (File memory) {
        return _files[fileId];
    }

    /// @inheritdoc IPermanentStorage
    function slot(uint256 fileId, uint32 index) external view returns (Slot memory) {
        return _slots[fileId][index];
    }

    /// @inheritdoc IPermanentStorage
    function fileCount() external view returns (uint256) {
        return _fileCount;
    }

    /// @inheritdoc IPermanentStorage
    function solvency(uint256 fileId) external view returns (Solvency memory v) {
        File storage f = _files[fileId];
        v.status = f.status;
        v.livePieces = f.livePieces;
        v.principalLeft = f.principal - f.spent;
        v.releasedLeft = _releasedLeft(f);
        Config storage c = _config;
        uint256 yearCost;
        uint256 n = c.totalShards; // bounded by 64 in code
        for (uint32 i; i < n; ++i) {
            Slot storage s = _slots[fileId][i];
            if (s.stage == SlotStage.Live)
                yearCost += DataSetMath.cost(s.price, f.pieceSpan, EndowmentMath.YEAR);
        }
        v.yearsCovered = _yearsCovered(v.principalLeft, yearCost);
    }

    /// @inheritdoc IPermanentStorage
    function referencePrice() public view returns (uint256) {
        uint256 elapsedYears = (block.timestamp - _deployedAt) / EndowmentMath.YEAR;
        return
            (uint256(_config.referencePricePerTiBMonth) *
                EndowmentMath.decay(_config.declineBps, elapsedYears)) / EndowmentMath.WAD;
    }

    /// @inheritdoc IPermanentStorage
    function releasedOf(uint256 fileId) public view returns (uint256) {
        File storage f = _files[fileId];
        if (f.status == FileStatus.None) return 0;
        uint256 yearIndex = (block.timestamp - f.storedAt) / EndowmentMath.YEAR;
        return EndowmentMath.released(f.principal, _config.declineBps, _config.horizonYears, yearIndex);
    }

    /// @inheritdoc IPermanentStorage
    function reserve() external view returns (uint256) {
        return _reserve;
    }

    /// @inheritdoc IPermanentStorage
    function owed(address account) external view returns (uint256) {
        return _owed[account];
    }

    /// @notice What the holdings (tokens and market balance) must cover: principal left, reserve and owed.
    /// @return The obligations.
    function obligations() external view returns (uint256) {
        return _obligations;
    }

    // ------------------------------------------------------------------ internals

    function _fileInBusiness(uint256 fileId) private view returns (File storage f) {
        f = _files[fileId];
        if (f.status != FileStatus.Pending && f.status != FileStatus.Active) {
            revert PermanentWrongFileStatus(fileId, f.status);
        }
    }

    function _slot(uint256 fileId, uint32 index) private view returns (Slot storage) {
        if (index >= _config.totalShards) revert PermanentBadIndex(index, _config.totalShards);
        return _slots[fileId][index];
    }

    function _createTerms(
        Slot storage s,
        uint64 nonce
    ) private view returns (IStorageMarket.CreateDataSet memory) {
        return
            IStorageMarket.CreateDataSet({
                client: address(this),
                provider: s.provider,
                pricePerTiBMonth: s.price,
                collateralPerTiB: _config.collateralPerTiB,
                noticePeriods: _config.noticePeriods,
                nonce: nonce,
                deadline: s.deadline
            });
    }

    function _checkAwardedDataSet(Slot storage s, uint64 dataSetId) private view {
        if (dataSetId == 0 || dataSetId > _market.dataSetCount() || _used[dataSetId]) {
            revert PermanentDataSetMismatch(dataSetId);
        }
        IStorageMarket.DataSetView memory d = _market.dataSet(dataSetId);
        if (
            d.client != address(this) ||
            d.provider != s.provider ||
            d.pricePerTiBMonth != s.price ||
            d.collateralPerTiB != _config.collateralPerTiB ||
            d.noticePeriods != _config.noticePeriods ||
            d.status != IStorageMarket.Status.Live ||
            d.version != 0
        ) revert PermanentDataSetMismatch(dataSetId);
    }

    function _releasedLeft(File storage f) private view returns (uint256) {
        if (f.status != FileStatus.Pending && f.status != FileStatus.Active) return 0;
        uint256 yearIndex = (block.timestamp - f.storedAt) / EndowmentMath.YEAR;
        uint256 rel = EndowmentMath.released(
            f.principal,
            _config.declineBps,
            _config.horizonYears,
            yearIndex
        );
        return rel > f.spent ? rel - f.spent : 0;
    }

    /// @dev Escrow a placement of slot `s` at its price receives (DurabilityRules.escrowFor).
    function _placementEscrow(File storage f, Slot storage s) private view returns (uint256) {
        return
            DurabilityRules.escrowFor(
                s.price,
                f.pieceSpan,
                _config.noticePeriods,
                _config.prepaidPeriods,
                _market.provingPeriod()
            );
    }

    /// @dev Revert `PermanentScheduleShort` unless the file's released principal left covers `amount`.
    function _requireReleased(uint256 fileId, File storage f, uint256 amount) private view {
        uint256 available = _releasedLeft(f);
        if (available < amount) revert PermanentScheduleShort(fileId, available, amount);
    }

    /// @dev Charge `amount` to the file's released principal (tokens leave for a data set's escrow).
    function _spend(uint256 fileId, File storage f, uint256 amount) private {
        _requireReleased(fileId, f, amount);
        f.spent += uint128(amount);
        _obligations -= amount;
    }

    /// @dev Largest whole number of years `y` ≤ horizon with `yearCost × S(y) ≤ left` (binary search).
    function _yearsCovered(uint256 left, uint256 yearCost) private view returns (uint256) {
        uint256 hi = _config.horizonYears;
        if (yearCost == 0) return left == 0 ? 0 : hi;
        uint256 lo;
        uint256 d = _config.declineBps;
        while (lo < hi) {
            uint256 mid = (lo + hi + 1) / 2;
            if ((yearCost * EndowmentMath.series(d, mid)) / EndowmentMath.WAD <= left) lo = mid;
            else hi = mid - 1;
        }
        return lo;
    }

    function _holdings() private view returns (uint256) {
        return _token.balanceOf(address(this)) + _market.balanceOf(address(this));
    }

    function _validate(Config memory c, uint32 maxNotice) private pure {
        _bound("referencePricePerTiBMonth", c.referencePricePerTiBMonth, 1, 1 << 96);
        _bound("declineBps", c.declineBps, 0, 1_000);
        _bound("horizonYears", c.horizonYears, 1, 500);
        _bound("dataShards", c.dataShards, 1, 32);
        _bound("totalShards", c.totalShards, uint256(c.dataShards) + 1, 64);
        _bound("repairAllowanceBps", c.repairAllowanceBps, 0, 10_000);
        _bound("feeBps", c.feeBps, 0, 1_000);
        _bound("maxPriceBps", c.maxPriceBps, 10_000, 50_000);
        _bound("collateralPerTiB", c.collateralPerTiB, 1, 1 << 96);
        _bound("noticePeriods", c.noticePeriods, 0, maxNotice);
        _bound("prepaidPeriods", c.prepaidPeriods, 1, 10_000);
        _bound("repairReward", c.repairReward, 0, 1 << 96);
        _bound("offerWindow", c.offerWindow, 60, 30 days);
    }

    function _bound(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert PermanentConfigOutOfBounds(name, value, min, max);
    }
}
