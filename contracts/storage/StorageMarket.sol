// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IERC20Permit } from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { EIP712 } from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import { Multicall } from "@openzeppelin/contracts/utils/Multicall.sol";
import { MarketGovernance } from "../governance/MarketGovernance.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { IStorageMarket } from "../interfaces/IStorageMarket.sol";
import { ICreditLedger } from "../interfaces/ICreditLedger.sol";
import { CreditLedger } from "../payments/CreditLedger.sol";
import { MarketLedger } from "../payments/MarketLedger.sol";
import { DataSetAccrual } from "./libraries/DataSetAccrual.sol";
import { DataSetClosing } from "./libraries/DataSetClosing.sol";
import { DataSetMath } from "./libraries/DataSetMath.sol";
import { DataSetUpdates } from "./libraries/DataSetUpdates.sol";
import { DataSetUpdateFastPath } from "./libraries/DataSetUpdateFastPath.sol";
import { DataSetProving } from "./libraries/DataSetProving.sol";
import { FaultLog } from "./libraries/FaultLog.sol";
import { MarketLayout } from "./libraries/MarketLayout.sol";
import { MarketViews } from "./libraries/MarketViews.sol";
import { ProofBond } from "./libraries/ProofBond.sol";
import { ProviderEpochs } from "./libraries/ProviderEpochs.sol";
import { StorageParams } from "./libraries/StorageParams.sol";

/// @title StorageMarket
/// @notice Data sets (creation, signed states, session keys), escrow and streams, endings, and the proving epoch
///         of every provider. Proof verification is `DataSetProving`; roles, pause and treasury are
///         `MarketGovernance`; money moves only through `CreditLedger`.
contract StorageMarket is IStorageMarket, MarketLedger, MarketGovernance, EIP712, Multicall {
    using FaultLog for FaultLog.Log;

    /// @notice Role of the retrieval-challenge contract, allowed to end data sets whose challenge went unanswered.
    bytes32 public constant RETRIEVAL_ROLE = keccak256("RETRIEVAL_ROLE");
    /// @notice Most entries per `updateDataSets` call.
    uint256 public constant MAX_BATCH = 100;
    /// @notice EIP-712 type hash of `CreateDataSet`.
    bytes32 public constant CREATE_TYPEHASH = keccak256(
        "CreateDataSet(address client,address provider,uint128 pricePerTiBMonth,uint128 collateralPerTiB,uint32 noticePeriods,uint64 nonce,uint64 deadline)"
    );
    /// @notice EIP-712 type hash of `DataSetState`.
    bytes32 public constant STATE_TYPEHASH = keccak256(
        "DataSetState(uint64 dataSetId,uint64 version,bytes32 root,uint64 span)"
    );
    /// @notice EIP-2935 block-hash history contract (Prague); used when BLOCKHASH no longer reaches the seed block.
    address internal constant BLOCK_HASH_HISTORY = 0x0000F90827F1C53a10cb7A02335B175320002935;

    uint256 internal immutable _provingPeriod;
    uint256 internal immutable _genesis;
    uint256 internal immutable _maxMissedProofPenalty;

    MarketLayout.Layout internal _s;

    /// @param registry_ Provider registry; this market needs its MARKET_ROLE.
    /// @param token_ Payment token (the registry's token).
    /// @param admin Holder of the admin, parameter and pauser roles (the timelock in deployment).
    /// @param treasury_ Receiver of the treasury share of slashes.
    /// @param provingPeriod_ Proving period in seconds (fixed for the market's life).
    /// @param maxMissedProofPenalty_ Cap on the missed-proof penalty parameter.
    /// @param params Initial parameters.
    constructor(
        IProviderRegistry registry_,
        IERC20 token_,
        address admin,
        address treasury_,
        uint256 provingPeriod_,
        uint256 maxMissedProofPenalty_,
        Parameters memory params
    ) MarketLedger(registry_, token_) MarketGovernance(admin, treasury_) EIP712("Strata StorageMarket", "2") {
        if (registry_.token() != address(token_))
            revert MarketTokenMismatch(address(token_), registry_.token());
        // The registry holds the proof bonds for this market; when it gives one back after the market collected its
        // tokens, it pulls them from here (`IProviderRegistry.returnStake`, the only pull it makes from a market).
        SafeERC20.forceApprove(token_, address(registry_), type(uint256).max);
        StorageParams.validateProvingPeriod(provingPeriod_);
        _provingPeriod = provingPeriod_;
        _genesis = block.timestamp;
        _maxMissedProofPenalty = maxMissedProofPenalty_;
        StorageParams.set(_s, params, provingPeriod_, maxMissedProofPenalty_);
    }

    // ------------------------------------------------------------------ data sets

    /// @inheritdoc IStorageMarket
    function createDataSet(
        CreateDataSet calldata terms,
        bytes calldata signature
    ) external whenNotPaused returns (uint64 id) {
        if (!_registry.isRegistered(msg.sender)) revert MarketNotRegistered(msg.sender);
        ProofBond.Charge memory bond;
        (id, bond) = DataSetUpdates.create(_s, terms, signature, createDigest(terms));
        _moveStake(msg.sender, bond, address(0), 0, 0, 0);
    }

    /// @inheritdoc IStorageMarket
    function updateDataSets(SignedState[] calldata states) external returns (uint256 applied) {
        // The parameters' first word holds the pause flag and the size bound: one read serves both paths.
        uint256 word0 = MarketLayout.paramsWord0(_s);
        if (word0 & MarketLayout.PAUSED_BIT != 0) revert EnforcedPause();
        // The common single entry is applied here, without the call into the linked library. It makes no external
        // call, so nothing can re-enter it; it only must not run inside another guarded call. Anything else (or an
        // entry it does not take, with nothing written) goes through the library.
        if (
            states.length == 1 &&
            !_reentrancyGuardEntered() &&
            DataSetUpdateFastPath.tryApply(
                _s,
                states[0],
                MarketLayout.maxSpan(word0),
                _domainSeparatorV4(),
                _provingPeriod,
                _currentPeriod()
            )
        ) return 1;
        return _applyStates(states);
    }

    /// @dev `updateDataSets` through the linked library, then the collateral moves.
    function _applyStates(SignedState[] calldata states) private nonReentrant returns (uint256 applied) {
        uint256 n = states.length;
        if (n == 0 || n > MAX_BATCH) revert MarketBadBatchSize(n, MAX_BATCH);
        uint256 toLock;
        uint256 toUnlock;
        // The library reads the entries from this call's own ABI encoding (copied, not re-encoded).
        (applied, toLock, toUnlock) = DataSetUpdates.applyStates(
            _s,
            msg.data[4:],
            _domainSeparatorV4(),
            _provingPeriod,
            _currentPeriod()
        );
        // Interactions last: move collateral in the registry; a batch that raises it also refills the proof bond.
        if (toLock > toUnlock) {
            _moveStake(msg.sender, ProofBond.refill(_s, msg.sender), address(0), 0, toLock - toUnlock, 0);
        } else if (toUnlock > toLock) {
            ProofBond.Charge memory none;
            _moveStake(msg.sender, none, address(0), 0, 0, toUnlock - toLock);
        }
    }

    /// @inheritdoc IStorageMarket
    function authorizeSessionKey(address key, SessionKey calldata scope) external {
        DataSetUpdates.authorizeSessionKey(_s, key, scope);
    }

    /// @inheritdoc IStorageMarket
    function revokeSessionKey(address key) external {
        DataSetUpdates.revokeSessionKey(_s, key);
    }

    /// @inheritdoc IStorageMarket
    function topUp(uint64 id, uint256 amount) external whenNotPaused nonReentrant {
        MarketLayout.DataSet storage d = _s.sets[id];
        if (d.status != Status.Live) revert MarketWrongStatus(id, d.status);
        // Escrow and payments are kept below 2^128 by this check.
        uint256 escrow = d.escrow + amount;
        if (escrow + d.paid > type(uint128).max) revert MarketUnfunded(msg.sender, amount);
        d.escrow = uint128(escrow);
        emit DataSetToppedUp(id, msg.sender, amount);
        // Interaction last: the ledger balance, else an exact pull (a fee-on-transfer token reverts).
        if (!_charge(msg.sender, amount)) revert MarketUnfunded(msg.sender, amount);
    }

    /// @inheritdoc IStorageMarket
    function withdrawEscrow(uint64 id, uint256 amount) external nonReentrant {
        DataSetAccrual.withdrawEscrow(_s, id, amount, _provingPeriod);
        _credit(msg.sender, amount);
    }

    /// @inheritdoc IStorageMarket
    function permitClient(
        address client,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        // A failing permit is ignored: a front-runner may already have used it, and the allowance is what counts.
        try IERC20Permit(address(_token)).permit(client, address(this), value, deadline, v, r, s) {} catch {} // solhint-disable-line no-empty-blocks
    }

    /// @inheritdoc IStorageMarket
    function cancelNonce(uint64 nonce) external {
        DataSetUpdates.cancelNonce(_s, nonce);
    }

    // ------------------------------------------------------------------ streams and endings

    /// @inheritdoc IStorageMarket
    function settleDataSet(uint64 id) external nonReentrant returns (uint256 amount) {
        MarketLayout.DataSet storage d = _s.sets[id];
        amount = _settle(id, d);
        if (amount != 0) _credit(d.provider, amount);
    }

    /// @inheritdoc IStorageMarket
    function settleDataSets(uint64[] calldata ids) external nonReentrant returns (uint256 total) {
        address provider;
        uint256 owed;
        for (uint256 i = 0; i < ids.length; ++i) {
            MarketLayout.DataSet storage d = _s.sets[ids[i]];
            uint256 amount = _settle(ids[i], d);
            address p = d.provider;
            if (p != provider) {
                if (owed != 0) _credit(provider, owed);
                provider = p;
                owed = 0;
            }
            owed += amount;
            total += amount;
        }
        if (owed != 0) _credit(provider, owed);
    }

    /// @inheritdoc IStorageMarket
    function terminateDataSet(uint64 id) external nonReentrant {
        MarketLayout.DataSet storage d = _live(id);
        EndReason reason;
        if (msg.sender == d.client) reason = EndReason.ClientTerminated;
        else if (msg.sender == d.provider) reason = EndReason.ProviderTerminated;
        else revert MarketNotDataSetParty(id, msg.sender);
        _beginEnd(id, d, reason);
    }

    /// @inheritdoc IStorageMarket
    function terminateUnfunded(uint64 id) external nonReentrant {
        _live(id);
        ProviderEpochs.terminateUnfunded(_s, id, _currentPeriod(), _provingPeriod);
    }

    /// @inheritdoc IStorageMarket
    function terminateFaultyDataSet(uint64 id) external nonReentrant {
        _endNow(id, EndReason.Faulty, msg.sender);
    }

    /// @inheritdoc IStorageMarket
    function failRetrieval(uint64 id, address challenger) external onlyRole(RETRIEVAL_ROLE) nonReentrant {
        _endNow(id, EndReason.RetrievalFailed, challenger);
    }

    /// @inheritdoc IStorageMarket
    function finalizeDataSet(uint64 id) external nonReentrant {
        if (DataSetClosing.finalizeStep(_s, id, _currentPeriod(), _provingPeriod))
            _close(id, _s.sets[id], msg.sender);
    }

    // ------------------------------------------------------------------ proofs and faults

    /// @inheritdoc IStorageMarket
    function submitProof(uint32 period, ChallengeAnswer[] calldata answers) external {
        Parameters storage p = _s.params;
        DataSetProving.ProofContext memory ctx = DataSetProving.ProofContext({
            periodEnd: _periodStart(uint256(period) + 1),
            proofWindow: p.proofWindow,
            challengeCount: p.challengeCount,
            challengeFinality: p.challengeFinality,
            provingPeriod: _provingPeriod,
            seed: _requireSeed(_s.proofStates[msg.sender].seedBlock)
        });
        DataSetProving.submitProof(_s, ctx, period, answers);
    }

    /// @inheritdoc IStorageMarket
    function declareFaults(uint64[] calldata ids) external {
        DataSetProving.declareFaults(_s, _currentPeriod(), _provingPeriod, ids);
    }

    /// @inheritdoc IStorageMarket
    function reportMissedProofs(address provider) external nonReentrant returns (uint256 bounty) {
        ProofBond.Charge memory bond = ProofBond.report(_s, provider, _currentPeriod());
        bounty = bond.toReporter;
        _moveStake(provider, bond, msg.sender, 0, 0, 0);
    }

    /// @inheritdoc IStorageMarket
    function refreshChallengeSeed() external {
        (bytes32 seed, bool mined) = _readSeed(_s.proofStates[msg.sender].seedBlock);
        ProviderEpochs.refreshSeed(_s, !mined || seed != bytes32(0), _currentPeriod());
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IStorageMarket
    function setParameters(Parameters calldata) external onlyRole(PARAMETER_ROLE) {
        // The library decodes the parameters from this call's own ABI encoding.
        StorageParams.setEncoded(_s, msg.data[4:], _provingPeriod, _maxMissedProofPenalty);
    }

    // ------------------------------------------------------------------ pause

    /// @notice Whether new business is paused (the flag shares the parameters' first word, see `MarketLayout`).
    /// @return The flag.
    function paused() public view override returns (bool) {
        return MarketLayout.paused(_s);
    }

    function _pause() internal override whenNotPaused {
        MarketLayout.setPaused(_s, true);
        emit Paused(msg.sender);
    }

    function _unpause() internal override whenPaused {
        MarketLayout.setPaused(_s, false);
        emit Unpaused(msg.sender);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IStorageMarket
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IStorageMarket
    function parameters() external view returns (Parameters memory) {
        return _s.params;
    }

    /// @inheritdoc IStorageMarket
    function provingPeriod() external view returns (uint256) {
        return _provingPeriod;
    }

    /// @inheritdoc IStorageMarket
    function genesis() external view returns (uint256) {
        return _genesis;
    }

    /// @inheritdoc IStorageMarket
    function currentPeriod() external view returns (uint256) {
        return _currentPeriod();
    }

    /// @inheritdoc IStorageMarket
    function periodStart(uint256 period) external view returns (uint256) {
        return _periodStart(period);
    }

    /// @inheritdoc IStorageMarket
    function proofState(address provider) external view returns (ProviderProofState memory) {
        return MarketViews.proofState(_s, provider);
    }

    /// @inheritdoc IStorageMarket
    function dataSet(uint64 id) external view returns (DataSetView memory) {
        return DataSetClosing.viewOf(_s, id);
    }

    /// @inheritdoc IStorageMarket
    function retrievalTarget(
        uint64 id
    ) external view returns (address provider, Status status, uint32 endPeriod, bytes32 root, uint64 span) {
        MarketLayout.DataSet storage d = _s.sets[id];
        span = d.spanCur;
        return (d.provider, d.status, d.endPeriod, _s.roots[id][d.rootParity], span);
    }

    /// @inheritdoc IStorageMarket
    function proofBond(address provider) external view returns (uint256 amount, uint256 openDataSets) {
        return (_s.bonds[provider].amount, _s.proofStates[provider].openDataSets);
    }

    /// @inheritdoc IStorageMarket
    function dataSetCount() external view returns (uint64) {
        return _s.count;
    }

    /// @inheritdoc IStorageMarket
    function weight(address provider) external view returns (uint256 frozen, uint256 current) {
        return MarketViews.weight(_s, provider);
    }

    /// @inheritdoc IStorageMarket
    function classSlot(
        address provider,
        uint16 c,
        uint256 slot
    ) external view returns (uint256 count, uint64 id) {
        return MarketViews.classSlot(_s, provider, c, slot);
    }

    /// @inheritdoc IStorageMarket
    function settleableAmount(uint64 id) external view returns (uint256) {
        return MarketViews.settleable(_s, id, _provingPeriod);
    }

    /// @inheritdoc IStorageMarket
    function withdrawableEscrow(uint64 id) external view returns (uint256) {
        return MarketViews.withdrawable(_s, id, _provingPeriod);
    }

    /// @inheritdoc IStorageMarket
    function lockupFor(uint64 id, uint64 span) external view returns (uint256) {
        return MarketViews.lockup(_s, id, span, _provingPeriod);
    }

    /// @inheritdoc IStorageMarket
    function challengeSeed(address provider) external view returns (bytes32 seed) {
        (seed, ) = _readSeed(_s.proofStates[provider].seedBlock);
    }

    /// @inheritdoc IStorageMarket
    function challengesFor(address provider) external view returns (Challenge[] memory drawn) {
        MarketLayout.ProofState memory st = _s.proofStates[provider];
        (bytes32 seed, ) = _readSeed(st.seedBlock);
        if (seed == bytes32(0)) return drawn;
        (drawn, ) = DataSetProving.draw(_s, provider, st.nextPeriod, seed, _s.params.challengeCount);
    }

    /// @inheritdoc IStorageMarket
    function createDigest(CreateDataSet calldata terms) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(CREATE_TYPEHASH, terms)));
    }

    /// @inheritdoc IStorageMarket
    function stateDigest(DataSetState calldata state) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(STATE_TYPEHASH, state)));
    }

    /// @inheritdoc IStorageMarket
    function nonceUsed(address client, uint64 nonce) external view returns (bool) {
        return _nonceSpent(client, nonce);
    }

    /// @inheritdoc IStorageMarket
    function sessionKey(address client, address key) external view returns (SessionKey memory) {
        return _s.sessionKeys[client][key];
    }

    // ------------------------------------------------------------------ internal: money

    function _settle(uint64 id, MarketLayout.DataSet storage d) private returns (uint256 amount) {
        Status status = d.status;
        if (status == Status.None) revert MarketUnknownDataSet(id);
        if (status == Status.Finalized) return 0;
        DataSetAccrual.accrue(_s, id, _provingPeriod);
        amount = _pay(d);
        emit DataSetSettled(id, amount, d.leafSeconds);
    }

    /// @dev Move what is due (capped at the escrow) from the data set's escrow to `paid`; the caller credits it.
    function _pay(MarketLayout.DataSet storage d) private returns (uint256 amount) {
        uint256 earned = DataSetMath.earned(d.pricePerTiBMonth, d.leafSeconds);
        uint256 paid = d.paid;
        if (earned <= paid) return 0;
        amount = earned - paid;
        uint256 escrow = d.escrow;
        if (amount > escrow) amount = escrow;
        // amount <= escrow; paid + amount <= paid + escrow < 2^128 (top-up bound).
        unchecked {
            d.escrow = uint128(escrow - amount);
            d.paid = uint128(paid + amount);
        }
    }

    function _live(uint64 id) private view returns (MarketLayout.DataSet storage d) {
        d = _s.sets[id];
        if (d.status != Status.Live) revert MarketWrongStatus(id, d.status);
    }

    /// @dev Set a live data set to end after its notice.
    function _beginEnd(uint64 id, MarketLayout.DataSet storage, EndReason reason) private {
        ProviderEpochs.beginEnd(_s, id, reason, _currentPeriod());
    }

    /// @dev End a data set at once (faults, failed retrieval) and close it: its provider's periods are resolved
    ///      first, nothing more is paid from the provider's current epoch on, its bytes leave the challengeable set
    ///      from the next epoch (`DataSetClosing.endNow`).
    function _endNow(uint64 id, EndReason reason, address reporter) private {
        _payOut(
            id,
            _s.sets[id],
            DataSetClosing.endNow(_s, id, reason, _currentPeriod(), _provingPeriod),
            reporter
        );
    }

    /// @dev Final payment, refund, penalty, collateral and bond release. State is final before the registry calls.
    function _close(uint64 id, MarketLayout.DataSet storage d, address reporter) private {
        _payOut(id, d, DataSetClosing.close(_s, id, _provingPeriod), reporter);
    }

    /// @dev Credit the amounts of a closing and move the collateral in the registry (interactions last).
    function _payOut(
        uint64 id,
        MarketLayout.DataSet storage d,
        DataSetClosing.Closing memory c,
        address reporter
    ) private {
        address provider = d.provider;
        if (c.paidToProvider != 0) _credit(provider, c.paidToProvider);
        if (c.refund != 0) _credit(c.client, c.refund);
        if (c.penalty != 0) {
            _credit(c.client, c.toHarmed);
            if (c.toReporter != 0) _credit(reporter, c.toReporter);
            if (c.toTreasury != 0) _creditTreasury(c.toTreasury);
            emit Slashed(provider, id, c.toHarmed, c.toReporter, c.toTreasury);
        }
        emit DataSetEnded(id, c.reason, c.paidToProvider, c.refund, c.toHarmed, c.released);
        // A close charges the bond without reporter (`ProofBond.close`): only the treasury has a share.
        _moveStake(provider, c.bond, address(0), c.penalty, 0, c.released);
    }

    /// @dev Credit a bond charge's shares (the bond's tokens are already the market's: held for it by the registry
    ///      or collected), then, interactions last, slash, lock and unlock collateral and take free stake into the
    ///      bond or give the bond left back in the registry (after the slash, so that the registry takes it from
    ///      what it holds for the market first). One call site per registry function keeps the market small.
    function _moveStake(
        address provider,
        ProofBond.Charge memory c,
        address reporter,
        uint256 toSlash,
        uint256 toLock,
        uint256 toUnlock
    ) private {
        if (c.toReporter != 0) _credit(reporter, c.toReporter);
        if (c.toTreasury != 0) _creditTreasury(c.toTreasury);
        if (toSlash != 0) _registry.slash(provider, toSlash, 0);
        if (toLock != 0) _registry.lockCollateral(provider, toLock);
        if (toUnlock != 0) _registry.unlockCollateral(provider, toUnlock);
        if (c.toBond != 0) _registry.bondStake(provider, c.toBond);
        if (c.toReturn != 0) _registry.returnStake(provider, c.toReturn);
    }

    /// @dev The treasury's share is added to a credit kept in a word slashes write anyway (`MarketLayout`); its ledger
    ///      balance (`balanceOf`) counts it, and it moves into the balance when spent or when the treasury changes.
    function _creditTreasury(uint256 amount) private {
        if (!MarketLayout.addTreasuryPending(_s, amount)) _credit(_treasury, amount);
    }

    /// @inheritdoc ICreditLedger
    function balanceOf(address account) public view override(ICreditLedger, CreditLedger) returns (uint256) {
        uint256 balance = super.balanceOf(account);
        return account == _treasury ? balance + MarketLayout.treasuryPending(_s) : balance;
    }

    function _collectCredit(address account) internal override returns (uint256) {
        return account == _treasury ? MarketLayout.takeTreasuryPending(_s) : 0;
    }

    function _beforeTreasuryChange() internal override {
        uint256 pending = MarketLayout.takeTreasuryPending(_s);
        if (pending != 0) _credit(_treasury, pending);
    }

    // ------------------------------------------------------------------ internal: signatures, clock, seeds

    function _currentPeriod() internal view returns (uint256) {
        // The clock never runs before the market's genesis; the proving period is not zero.
        unchecked {
            return (block.timestamp - _genesis) / _provingPeriod;
        }
    }

    function _periodStart(uint256 period) internal view returns (uint256) {
        return _genesis + period * _provingPeriod;
    }

    function _nonceSpent(address client, uint64 nonce) internal view returns (bool) {
        return (_s.nonceBits[client][nonce >> 8] >> (nonce & 0xff)) & 1 == 1;
    }

    /// @dev The seed for challenges, or a revert saying why it cannot be used yet (or any more).
    function _requireSeed(uint64 seedBlock) internal view returns (bytes32 seed) {
        bool ready;
        (seed, ready) = _readSeed(seedBlock);
        if (!ready) revert MarketSeedNotReady(seedBlock, block.number);
        if (seed == bytes32(0)) revert MarketSeedExpired(seedBlock);
    }

    /// @dev `ready` is false while the seed block is not yet mined; `seed` is zero when its hash is gone.
    function _readSeed(uint64 seedBlock) internal view returns (bytes32 seed, bool ready) {
        if (block.number <= seedBlock) return (bytes32(0), false);
        ready = true;
        seed = blockhash(seedBlock);
        if (seed == bytes32(0) && BLOCK_HASH_HISTORY.code.length != 0) {
            (bool ok, bytes memory ret) = BLOCK_HASH_HISTORY.staticcall(abi.encode(uint256(seedBlock)));
            if (ok && ret.length == 32) seed = abi.decode(ret, (bytes32));
        }
    }

    /// @dev The holder of RETRIEVAL_ROLE is the contract whose open challenges hold a data set's close.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        if (role == RETRIEVAL_ROLE) _s.retrieval = account;
        return super._grantRole(role, account);
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool) {
        if (role == RETRIEVAL_ROLE && account == _s.retrieval) _s.retrieval = address(0);
        return super._revokeRole(role, account);
    }
}
