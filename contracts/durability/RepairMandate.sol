// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { Initializable } from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { ECDSA } from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import { MerkleProof } from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import { IStorageMarket } from "../interfaces/IStorageMarket.sol";
import { ExactPull } from "../payments/libraries/ExactPull.sol";
import { IRepairMandate } from "./interfaces/IRepairMandate.sol";
import { DurabilityRules } from "./libraries/DurabilityRules.sol";
import { MarketWallet } from "./libraries/MarketWallet.sol";

/// @title RepairMandate
/// @notice One file's repair mandate and market wallet; deployed as minimal clones by `RepairMandateFactory`.
contract RepairMandate is IRepairMandate, Initializable, ReentrancyGuardTransient {
    using ExactPull for IERC20;

    /// @notice Most providers an owner may exclude.
    uint256 public constant MAX_EXCLUDED = 8;
    /// @notice Time a provider has to create the data set of an open repair and have it bound.
    uint256 public constant PLACEMENT_WINDOW = 1 days;
    /// @notice Proving periods after binding within which the new data set must be paid for a proven period.
    uint256 public constant PROOF_GRACE_PERIODS = 4;
    /// @notice Creation nonces of repair data sets start here (the owner's own nonces stay below).
    uint64 public constant REPAIR_NONCE_BASE = uint64(1) << 63;

    IStorageMarket private immutable _market;
    IERC20 private immutable _token;
    address private immutable _factory;

    Terms private _terms;
    bool private _closed;
    uint256 private _repairCount;
    /// @dev Rewards and escrow held for open repairs plus rewards of bound ones plus rewards owed.
    uint256 private _committed;
    mapping(uint256 repairId => Repair) private _repairs;
    mapping(uint32 index => uint64) private _holders;
    mapping(uint32 index => uint256) private _pending;
    mapping(uint64 dataSetId => uint256) private _repairOfDataSet;
    mapping(address repairer => uint256) private _owed;
    mapping(bytes32 digest => bool) private _approved;

    /// @param market_ The storage market (the factory that deploys this implementation).
    constructor(IStorageMarket market_) {
        _market = market_;
        _token = IERC20(market_.paymentToken());
        _factory = msg.sender;
        _disableInitializers();
    }

    modifier onlyOwner() {
        if (msg.sender != _terms.owner) revert MandateNotOwner(msg.sender);
        _;
    }

    /// @inheritdoc IRepairMandate
    function initialize(Terms calldata terms_) external initializer {
        if (msg.sender != _factory) revert MandateNotFactory(msg.sender);
        _terms = terms_;
    }

    // ------------------------------------------------------------------ repairs

    /// @inheritdoc IRepairMandate
    function openRepair(
        Piece calldata piece,
        bytes32[] calldata proof,
        address provider,
        uint128 price,
        uint128 collateral
    ) external nonReentrant returns (uint256 repairId) {
        if (_closed) revert MandateIsClosed();
        Terms storage t = _terms;
        if (price > t.priceCeiling) revert MandatePriceAboveCeiling(price, t.priceCeiling);
        if (collateral < t.collateralFloor) revert MandateCollateralBelowFloor(collateral, t.collateralFloor);
        (uint256 lostRate, address lostProvider) = _lostPiece(piece, proof);
        if (provider == lostProvider || _isExcluded(provider)) revert MandateProviderExcluded(provider);
        (uint256 reward, uint256 escrow) = _reservation(lostRate, piece.span, price);

        repairId = ++_repairCount;
        uint64 deadline = uint64(block.timestamp + PLACEMENT_WINDOW);
        _repairs[repairId] = Repair({
            stage: Stage.Open,
            index: piece.index,
            span: piece.span,
            deadline: deadline,
            dataSetId: 0,
            repairer: msg.sender,
            provider: provider,
            pieceRoot: piece.pieceRoot,
            price: price,
            collateral: collateral,
            reward: uint128(reward),
            escrow: uint128(escrow)
        });
        _pending[piece.index] = repairId;
        _committed += reward + escrow;
        IStorageMarket.CreateDataSet memory create = _createTerms(_repairs[repairId], repairId);
        _approved[_market.createDigest(create)] = true;
        emit RepairOpened(repairId, piece.index, msg.sender, create, reward, escrow);
    }

    /// @inheritdoc IRepairMandate
    function bindRepair(uint256 repairId, uint64 dataSetId) external nonReentrant {
        Repair storage r = _repairs[repairId];
        if (r.stage != Stage.Open) revert MandateWrongStage(repairId, r.stage);
        if (block.timestamp > r.deadline) revert MandateExpired(repairId, r.deadline);
        if (dataSetId == 0 || dataSetId > _market.dataSetCount() || _repairOfDataSet[dataSetId] != 0) {
            revert MandateDataSetMismatch(repairId, dataSetId);
        }
        IStorageMarket.DataSetView memory d = _market.dataSet(dataSetId);
        if (
            d.client != address(this) ||
            d.provider != r.provider ||
            d.pricePerTiBMonth != r.price ||
            d.collateralPerTiB != r.collateral ||
            d.noticePeriods != _terms.noticePeriods ||
            d.status != IStorageMarket.Status.Live ||
            d.version != 0
        ) revert MandateDataSetMismatch(repairId, dataSetId);
        IStorageMarket.CreateDataSet memory create = _createTerms(r, repairId);
        bytes32 createDigest = _market.createDigest(create);
        // The creation digest is single-use at the market (nonce); dropping it keeps the approvals minimal.
        delete _approved[createDigest];

        uint256 escrow = r.escrow;
        r.stage = Stage.Bound;
        r.dataSetId = dataSetId;
        r.deadline = uint64(block.timestamp + PROOF_GRACE_PERIODS * _market.provingPeriod());
        r.escrow = 0;
        _committed -= escrow;
        _holders[r.index] = dataSetId;
        _repairOfDataSet[dataSetId] = repairId;
        IStorageMarket.DataSetState memory state = IStorageMarket.DataSetState({
            dataSetId: dataSetId,
            version: 1,
            root: r.pieceRoot,
            span: r.span
        });
        _approved[_market.stateDigest(state)] = true;
        emit RepairBound(repairId, dataSetId, state);
        MarketWallet.fundDataSet(_market, _token, dataSetId, escrow);
    }

    /// @inheritdoc IRepairMandate
    function claimRepair(uint256 repairId) external nonReentrant {
        Repair storage r = _repairs[repairId];
        if (r.stage != Stage.Bound) revert MandateWrongStage(repairId, r.stage);
        // Account the proven periods first (anyone may settle; a settlement that cannot run changes nothing).
        try _market.settleDataSet(r.dataSetId) {} catch {} // solhint-disable-line no-empty-blocks
        if (!_proven(r)) revert MandateNotProven(repairId, r.dataSetId);
        r.stage = Stage.Claimed;
        delete _pending[r.index];
        delete _repairOfDataSet[r.dataSetId];
        uint256 reward = r.reward;
        // The reward stays committed until withdrawn: it moves from the reservation to the repairer's credit.
        _owed[r.repairer] += reward;
        emit RepairClaimed(repairId, r.repairer, reward);
    }

    /// @inheritdoc IRepairMandate
    function cancelRepair(uint256 repairId) external nonReentrant {
        Repair storage r = _repairs[repairId];
        Stage stage = r.stage;
        if (stage != Stage.Open && stage != Stage.Bound) revert MandateWrongStage(repairId, stage);
        if (block.timestamp <= r.deadline) revert MandateNotExpired(repairId, r.deadline);
        if (stage == Stage.Bound && _proven(r)) revert MandateWrongStage(repairId, stage);
        r.stage = Stage.Cancelled;
        delete _pending[r.index];
        _committed -= uint256(r.reward) + r.escrow;
        uint64 dataSetId = r.dataSetId;
        if (stage == Stage.Open) {
            delete _approved[_market.createDigest(_createTerms(r, repairId))];
        } else {
            delete _repairOfDataSet[dataSetId];
        }
        emit RepairCancelled(repairId);
        // A bound data set that never held the piece proven ends; its escrow returns to the budget at closing.
        if (stage == Stage.Bound && _market.dataSet(dataSetId).status == IStorageMarket.Status.Live) {
            _market.terminateDataSet(dataSetId);
        }
    }

    // ------------------------------------------------------------------ money

    /// @inheritdoc IRepairMandate
    function fund(uint256 amount) external nonReentrant {
        emit BudgetFunded(msg.sender, amount);
        _token.pull(msg.sender, amount);
    }

    /// @inheritdoc IRepairMandate
    function withdraw(uint256 amount) external onlyOwner nonReentrant {
        uint256 free = freeBudget();
        if (free < amount) revert MandateBudgetShort(free, amount);
        emit BudgetWithdrawn(amount);
        MarketWallet.payOut(_market, _token, msg.sender, amount);
    }

    /// @inheritdoc IRepairMandate
    function close() external onlyOwner {
        _closed = true;
        emit MandateClosed();
    }

    /// @inheritdoc IRepairMandate
    function withdrawRewards() external nonReentrant {
        uint256 amount = _owed[msg.sender];
        if (amount == 0) revert MandateNothingOwed(msg.sender);
        delete _owed[msg.sender];
        _committed -= amount;
        emit RewardWithdrawn(msg.sender, amount);
        MarketWallet.payOut(_market, _token, msg.sender, amount);
    }

    // ------------------------------------------------------------------ owner's wallet

    /// @inheritdoc IRepairMandate
    function terminateDataSet(uint64 dataSetId) external onlyOwner nonReentrant {
        uint256 repairId = _repairOfDataSet[dataSetId];
        if (repairId != 0) revert MandateDataSetInRepair(dataSetId, repairId);
        _market.terminateDataSet(dataSetId);
    }

    /// @inheritdoc IRepairMandate
    function authorizeSessionKey(address key, IStorageMarket.SessionKey calldata scope) external onlyOwner {
        _market.authorizeSessionKey(key, scope);
    }

    /// @notice ERC-1271: valid for a digest this wallet approved for a repair, or one its owner signed (65-byte
    ///         ECDSA), so the owner may run the file's own data sets through the wallet.
    /// @param hash The digest.
    /// @param signature Ignored for approved digests; else the owner's ECDSA signature.
    /// @return The ERC-1271 magic value when valid, else 0.
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (_approved[hash]) return this.isValidSignature.selector;
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        return
            err == ECDSA.RecoverError.NoError && signer == _terms.owner && signer != address(0)
                ? this.isValidSignature.selector
                : bytes4(0);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRepairMandate
    function market() external view returns (IStorageMarket) {
        return _market;
    }

    /// @inheritdoc IRepairMandate
    function terms() external view returns (Terms memory) {
        return _terms;
    }

    /// @inheritdoc IRepairMandate
    function closed() external view returns (bool) {
        return _closed;
    }

    /// @inheritdoc IRepairMandate
    function freeBudget() public view returns (uint256) {
        uint256 held = _token.balanceOf(address(this)) + _market.balanceOf(address(this));
        return held > _committed ? held - _committed : 0;
    }

    /// @inheritdoc IRepairMandate
    function repair(uint256 repairId) external view returns (Repair memory) {
        return _repairs[repairId];
    }

    /// @inheritdoc IRepairMandate
    function repairCount() external view returns (uint256) {
        return _repairCount;
    }

    /// @inheritdoc IRepairMandate
    function holderOf(uint32 index) external view returns (uint64) {
        return _holders[index];
    }

    /// @inheritdoc IRepairMandate
    function pendingRepairOf(uint32 index) external view returns (uint256) {
        return _pending[index];
    }

    /// @inheritdoc IRepairMandate
    function rewardsOwed(address repairer) external view returns (uint256) {
        return _owed[repairer];
    }

    // ------------------------------------------------------------------ internals

    /// @dev Check that `piece` is in the list and lost, with no repair under way; returns the collateral rate of
    ///      the data set that lost it (the floor when it never existed) and its provider.
    function _lostPiece(
        Piece calldata piece,
        bytes32[] calldata proof
    ) private view returns (uint256 lostRate, address lostProvider) {
        if (
            piece.span == 0 ||
            proof.length > DurabilityRules.MAX_PROOF_LENGTH ||
            !MerkleProof.verifyCalldata(
                proof,
                _terms.piecesRoot,
                DurabilityRules.pieceLeaf(piece.index, piece.pieceRoot, piece.span, piece.dataSetId)
            )
        ) revert MandateUnknownPiece(piece.index, piece.pieceRoot);
        uint256 pending = _pending[piece.index];
        if (pending != 0) revert MandateRepairPending(piece.index, pending);
        uint64 holder = _holders[piece.index];
        if (holder == 0) holder = piece.dataSetId;
        bool lost;
        (lost, lostProvider) = DurabilityRules.isLost(_market, holder);
        if (!lost) revert MandatePieceNotLost(piece.index, holder);
        lostRate =
            lostProvider == address(0) ? _terms.collateralFloor : _market.dataSet(holder).collateralPerTiB;
    }

    /// @dev The capped reward and the escrow of a repair, checked against the free budget.
    function _reservation(
        uint256 lostRate,
        uint64 span,
        uint128 price
    ) private view returns (uint256 reward, uint256 escrow) {
        Terms storage t = _terms;
        // The reward is capped by what the provider that lost the piece forfeited (DurabilityRules.rewardCap).
        uint256 cap = DurabilityRules.rewardCap(_market, lostRate, span);
        reward = t.repairReward < cap ? t.repairReward : cap;
        escrow = DurabilityRules.escrowFor(
            price,
            span,
            t.noticePeriods,
            t.prepaidPeriods,
            _market.provingPeriod()
        );
        uint256 free = freeBudget();
        if (free < reward + escrow) revert MandateBudgetShort(free, reward + escrow);
    }

    function _createTerms(
        Repair storage r,
        uint256 repairId
    ) private view returns (IStorageMarket.CreateDataSet memory) {
        return
            IStorageMarket.CreateDataSet({
                client: address(this),
                provider: r.provider,
                pricePerTiBMonth: r.price,
                collateralPerTiB: r.collateral,
                noticePeriods: _terms.noticePeriods,
                // repairId < 2^63: one per transaction.
                nonce: REPAIR_NONCE_BASE + uint64(repairId),
                deadline: r.deadline
            });
    }

    /// @dev Live, holding exactly the piece (root and span) and paid for at least one proven period.
    function _proven(Repair storage r) private view returns (bool) {
        IStorageMarket.DataSetView memory d = _market.dataSet(r.dataSetId);
        return
            d.status == IStorageMarket.Status.Live &&
            d.root == r.pieceRoot &&
            d.span == r.span &&
            d.leafSeconds != 0;
    }

    function _isExcluded(address provider) private view returns (bool) {
        address[] storage excluded = _terms.excluded;
        uint256 n = excluded.length; // at most MAX_EXCLUDED (checked by the factory)
        for (uint256 i; i < n; ++i) {
            if (excluded[i] == provider) return true;
        }
        return false;
    }
}
