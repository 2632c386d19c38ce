// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IERC20Permit } from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import { EIP712 } from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import { SignatureChecker } from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import { Multicall } from "@openzeppelin/contracts/utils/Multicall.sol";
import { MarketGovernance } from "../governance/MarketGovernance.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { IStorageMarket } from "../interfaces/IStorageMarket.sol";
import { DealAccounting } from "./libraries/DealAccounting.sol";
import { DealSlot } from "./libraries/DealSlot.sol";
import { DealTerms } from "./libraries/DealTerms.sol";
import { PackedDealList } from "./libraries/PackedDealList.sol";
import { PaymentMath } from "./libraries/PaymentMath.sol";
import { StorageParams } from "./libraries/StorageParams.sol";
import { ProofOfStorage } from "./ProofOfStorage.sol";
import { StorageMarketBase } from "./StorageMarketBase.sol";

/// @title StorageMarket
/// @notice Deal lifecycle (publish, settle, extend, terminate, finalize), parameters and views of the storage
///         market. Roles, pause and treasury are `MarketGovernance`; money moves only through `CreditLedger`.
contract StorageMarket is ProofOfStorage, MarketGovernance, EIP712, Multicall {
    using PackedDealList for PackedDealList.List;

    /// @notice Role of the retrieval-challenge contract, allowed to end deals whose challenge went unanswered.
    bytes32 public constant RETRIEVAL_ROLE = keccak256("RETRIEVAL_ROLE");
    /// @notice Most proposals per `publishDeals` call.
    uint256 public constant MAX_BATCH = 100;
    /// @notice EIP-712 type hash of `DealProposal`.
    bytes32 public constant DEAL_PROPOSAL_TYPEHASH = keccak256(
        "DealProposal(address client,address provider,bytes32 root,uint64 size,uint64 duration,uint128 pricePerSecond,uint128 collateral,uint64 startDeadline,uint64 nonce)"
    );
    /// @notice EIP-712 type hash of `DealExtension`.
    bytes32 public constant DEAL_EXTENSION_TYPEHASH = keccak256(
        "DealExtension(uint64 dealId,uint32 newEndPeriod,uint64 nonce,uint64 deadline)"
    );

    /// @param registry_ Provider registry; this market needs its MARKET_ROLE.
    /// @param token_ Payment token (the registry's token).
    /// @param admin Holder of the admin, parameter and pauser roles (the timelock in deployment).
    /// @param treasury_ Receiver of the treasury share of slashes.
    /// @param provingPeriod_ Proving period in seconds (fixed for the market's life).
    /// @param maxMissedProofBounty_ Cap on the missed-proof bounty parameter.
    /// @param params Initial parameters.
    constructor(
        IProviderRegistry registry_,
        IERC20 token_,
        address admin,
        address treasury_,
        uint256 provingPeriod_,
        uint256 maxMissedProofBounty_,
        Parameters memory params
    )
        StorageMarketBase(registry_, token_, provingPeriod_, maxMissedProofBounty_)
        MarketGovernance(admin, treasury_)
        EIP712("Strata StorageMarket", "1")
    {
        _setParameters(params);
    }

    // ------------------------------------------------------------------ publishing

    /// @inheritdoc IStorageMarket
    function publishDeals(
        SignedProposal[] calldata proposals
    ) external whenNotPaused nonReentrant returns (uint256 published) {
        uint256 n = proposals.length;
        if (n == 0 || n > MAX_BATCH) revert MarketBadBatchSize(n, MAX_BATCH);
        ProviderProofState memory st = _proofStates[msg.sender];
        uint256 current = _currentPeriod();
        bool restart = st.activeDeals == 0;
        if (!restart && st.nextPeriod < current)
            revert MarketUnresolvedPeriods(msg.sender, st.nextPeriod, current);
        Parameters memory p = _params;
        PackedDealList.List storage list = _activeLists[msg.sender];
        uint256 totalCollateral;
        uint64 id = _lastDealId;
        for (uint256 i = 0; i < n; ++i) {
            DealProposal calldata prop = proposals[i].proposal;
            uint32 periods = _checkProposal(prop, proposals[i].signature, p);
            if (_nonceSpent(prop.client, prop.nonce)) {
                emit DealSkipped(prop.client, prop.nonce, SkipReason.NonceUsed);
                continue;
            }
            if (!_fund(prop.client, uint256(prop.pricePerSecond) * prop.duration, false)) {
                emit DealSkipped(prop.client, prop.nonce, SkipReason.Unfunded);
                continue;
            }
            _spendNonce(prop.client, prop.nonce);
            uint256 index = st.activeDeals;
            if (index > type(uint24).max) revert MarketTooManyDeals(msg.sender);
            // Ids and counts grow by one per published deal; neither can reach 2^64 / 2^32.
            unchecked {
                ++id;
                ++st.activeDeals;
                totalCollateral += prop.collateral;
                ++published;
            }
            _storeNewDeal(id, prop, uint32(current + 1), periods, index);
            list.set(index, id);
        }
        _lastDealId = id;
        if (restart && published != 0) {
            // Nothing was owed before: start proving from the first period the new deals are paid for.
            st.nextPeriod = uint32(current + 1);
            st.seedBlock = uint64(block.number) + p.challengeFinality;
            st.challengeable = st.activeDeals;
            emit ChallengeSeedScheduled(msg.sender, st.nextPeriod, st.seedBlock);
        }
        _proofStates[msg.sender] = st;
        // Locking also checks that the caller is a registered provider; with no collateral, check directly.
        if (totalCollateral != 0) _registry.lockCollateral(msg.sender, totalCollateral);
        else if (!_registry.isRegistered(msg.sender)) revert MarketNotRegistered(msg.sender);
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
        if (_nonceSpent(msg.sender, nonce)) revert MarketNonceUsed(msg.sender, nonce);
        _spendNonce(msg.sender, nonce);
        emit NonceCancelled(msg.sender, nonce);
    }

    // ------------------------------------------------------------------ streams and endings

    /// @inheritdoc IStorageMarket
    function settleDeal(Deal calldata deal) external returns (uint256 amount) {
        return _settle(deal, type(uint256).max);
    }

    /// @inheritdoc IStorageMarket
    function settleDealWithHint(Deal calldata deal, uint256 faultRunHint) external returns (uint256 amount) {
        return _settle(deal, faultRunHint);
    }

    function _settle(Deal calldata deal, uint256 faultRunHint) private returns (uint256 amount) {
        uint256 word = _checkedDeal(deal);
        DealSlot.State memory s = DealSlot.unpack(word);
        DealAccounting.Accrual memory a = _accrue(deal, word, faultRunHint);
        amount = PaymentMath.due(deal.pricePerSecond, a.net, s.paidSeconds);
        if (amount != 0) {
            // net <= deal length in seconds, which the duration bound keeps below 2^32.
            s.paidSeconds = uint32(a.net);
            _deals[deal.id] = DealSlot.pack(s);
            _credit(deal.provider, amount);
        }
        emit DealSettled(deal.id, amount);
    }

    /// @inheritdoc IStorageMarket
    function terminateDeal(Deal calldata deal) external nonReentrant {
        uint256 word = _checkedDeal(deal);
        EndReason reason;
        if (msg.sender == deal.client) reason = EndReason.ClientTerminated;
        else if (msg.sender == deal.provider) reason = EndReason.ProviderTerminated;
        else revert MarketNotDealParty(deal.id, msg.sender);
        if (_currentPeriod() >= deal.endPeriod) revert MarketDealOver(deal.id, deal.endPeriod);
        _endDeal(deal, word, reason, msg.sender);
    }

    /// @inheritdoc IStorageMarket
    function finalizeDeal(Deal calldata deal) external nonReentrant {
        uint256 word = _checkedDeal(deal);
        uint32 nextPeriod = _proofStates[deal.provider].nextPeriod;
        if (nextPeriod < deal.endPeriod || block.timestamp < _periodStart(deal.endPeriod)) {
            revert MarketDealNotOver(deal.id, deal.endPeriod, nextPeriod);
        }
        _endDeal(deal, word, EndReason.Expired, msg.sender);
    }

    /// @inheritdoc IStorageMarket
    function terminateFaultyDeal(Deal calldata deal) external nonReentrant {
        uint256 word = _checkedDeal(deal);
        DealAccounting.Accrual memory a = _accrue(deal, word);
        uint256 faults = a.missed + a.declared;
        if (faults < _params.maxFaults) revert MarketNotEnoughFaults(deal.id, faults, _params.maxFaults);
        _endDeal(deal, word, EndReason.TooManyFaults, msg.sender);
    }

    /// @inheritdoc IStorageMarket
    function failRetrieval(
        Deal calldata deal,
        address challenger
    ) external onlyRole(RETRIEVAL_ROLE) nonReentrant {
        _endDeal(deal, _checkedDeal(deal), EndReason.RetrievalFailed, challenger);
    }

    /// @inheritdoc IStorageMarket
    function extendDeal(
        Deal calldata deal,
        DealExtension calldata extension,
        bytes calldata signature
    ) external whenNotPaused nonReentrant {
        uint256 word = _checkedDeal(deal);
        if (msg.sender != deal.provider) revert MarketNotDealParty(deal.id, msg.sender);
        if (_currentPeriod() >= deal.endPeriod) revert MarketDealOver(deal.id, deal.endPeriod);
        if (
            extension.dealId != deal.id ||
            extension.newEndPeriod <= deal.endPeriod ||
            block.timestamp > extension.deadline ||
            extension.newEndPeriod - deal.startPeriod > _params.maxDealPeriods
        ) revert MarketBadExtension(deal.id);
        if (_nonceSpent(deal.client, extension.nonce)) revert MarketNonceUsed(deal.client, extension.nonce);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(DEAL_EXTENSION_TYPEHASH, extension)));
        if (!SignatureChecker.isValidSignatureNow(deal.client, digest, signature)) {
            revert MarketBadSignature(deal.client);
        }
        _spendNonce(deal.client, extension.nonce);
        uint256 amount =
            uint256(deal.pricePerSecond) * (extension.newEndPeriod - deal.endPeriod) * _provingPeriod;
        _fund(deal.client, amount, true);
        uint160 newHash = DealTerms.termsHash(
            deal.root,
            deal.size,
            extension.newEndPeriod,
            DealTerms.partiesHash(deal)
        );
        DealSlot.State memory s = DealSlot.unpack(word);
        s.termsHash = newHash;
        _deals[deal.id] = DealSlot.pack(s);
        emit DealExtended(deal.id, extension.newEndPeriod, amount);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IStorageMarket
    function setParameters(Parameters calldata params) external onlyRole(PARAMETER_ROLE) {
        _setParameters(params);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IStorageMarket
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IStorageMarket
    function parameters() external view returns (Parameters memory) {
        return _params;
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
        return _proofStates[provider];
    }

    /// @inheritdoc IStorageMarket
    function activeDealAt(address provider, uint256 index) external view returns (uint64) {
        return _activeLists[provider].at(index);
    }

    /// @inheritdoc IStorageMarket
    function dealState(
        uint64 id
    )
        external
        view
        returns (
            uint160 termsHash,
            uint32 paidSeconds,
            uint8 declaredFaults,
            uint32 lastDeclaredPeriodPlusOne,
            uint24 index
        )
    {
        DealSlot.State memory s = DealSlot.unpack(_deals[id]);
        return (s.termsHash, s.paidSeconds, s.declaredFaults, s.lastDeclaredPeriodPlusOne, s.index);
    }

    /// @inheritdoc IStorageMarket
    function dealFaults(Deal calldata deal) external view returns (uint256 missed, uint256 declared) {
        uint256 word = _checkedDeal(deal);
        DealAccounting.Accrual memory a = _accrue(deal, word);
        return (a.missed, a.declared);
    }

    /// @inheritdoc IStorageMarket
    function settleableAmount(Deal calldata deal) external view returns (uint256) {
        uint256 word = _checkedDeal(deal);
        DealAccounting.Accrual memory a = _accrue(deal, word);
        return PaymentMath.due(deal.pricePerSecond, a.net, DealSlot.unpack(word).paidSeconds);
    }

    /// @inheritdoc IStorageMarket
    function proposalDigest(DealProposal calldata proposal) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(DEAL_PROPOSAL_TYPEHASH, proposal)));
    }

    /// @inheritdoc IStorageMarket
    function nonceUsed(address client, uint64 nonce) external view returns (bool) {
        return _nonceSpent(client, nonce);
    }

    // ------------------------------------------------------------------ internal

    /// @dev Checks everything about a proposal that is the provider's responsibility; returns its length in periods.
    function _checkProposal(
        DealProposal calldata prop,
        bytes calldata signature,
        Parameters memory p
    ) private view returns (uint32 periods) {
        if (prop.provider != msg.sender) revert MarketNotProposalProvider(prop.provider, msg.sender);
        if (block.timestamp > prop.startDeadline)
            revert MarketProposalExpired(prop.startDeadline, block.timestamp);
        if (prop.size == 0 || prop.size > p.maxPieceSize)
            revert MarketBadPieceSize(prop.size, p.maxPieceSize);
        if (prop.pricePerSecond == 0) revert MarketZeroPrice();
        uint256 d = prop.duration;
        uint256 count = d / _provingPeriod;
        if (d % _provingPeriod != 0 || count < p.minDealPeriods || count > p.maxDealPeriods) {
            revert MarketBadDuration(prop.duration, _provingPeriod, p.minDealPeriods, p.maxDealPeriods);
        }
        if (!SignatureChecker.isValidSignatureNow(prop.client, proposalDigest(prop), signature)) {
            revert MarketBadSignature(prop.client);
        }
        periods = uint32(count);
    }

    function _storeNewDeal(
        uint64 id,
        DealProposal calldata prop,
        uint32 startPeriod,
        uint32 periods,
        uint256 index
    ) private {
        uint32 endPeriod = startPeriod + periods;
        bytes32 parties = DealTerms.partiesHash(
            id,
            prop.client,
            prop.provider,
            startPeriod,
            prop.pricePerSecond,
            prop.collateral
        );
        _deals[id] = (uint256(DealTerms.termsHash(prop.root, prop.size, endPeriod, parties)) << 96) | index;
        emit DealPublished(
            id,
            prop.client,
            prop.provider,
            prop.root,
            prop.size,
            startPeriod,
            endPeriod,
            prop.pricePerSecond,
            prop.collateral,
            prop.nonce
        );
    }

    /// @dev Take `amount` of escrow from the client's ledger balance if it covers it, else from its allowance.
    ///      With `mustSucceed`, an unfunded client reverts; otherwise it returns false.
    function _fund(address client, uint256 amount, bool mustSucceed) private returns (bool) {
        if (_charge(client, amount)) return true;
        if (mustSucceed) revert MarketUnfunded(client, amount);
        return false;
    }

    /// @dev Final payment, refund, collateral penalty and release, and removal from the provider's list. A
    ///      penalty's bounty share goes to `reporter`.
    function _endDeal(Deal calldata deal, uint256 word, EndReason reason, address reporter) private {
        DealAccounting.Closing memory c = DealAccounting.closing(
            _faultLogs[deal.provider],
            _params,
            _clock(),
            deal,
            word,
            _proofStates[deal.provider].nextPeriod,
            reason
        );
        _removeDeal(deal, word);

        if (c.paidToProvider != 0) _credit(deal.provider, c.paidToProvider);
        if (c.refund != 0) _credit(deal.client, c.refund);
        if (c.penalty != 0) {
            _credit(deal.client, c.toHarmed);
            if (c.toReporter != 0) _credit(reporter, c.toReporter);
            if (c.toTreasury != 0) _credit(_treasury, c.toTreasury);
            emit Slashed(deal.provider, deal.id, c.toHarmed, c.toReporter, c.toTreasury);
        }
        uint256 released = deal.collateral - c.penalty;
        emit DealEnded(deal.id, reason, c.paidToProvider, c.refund, c.toHarmed, released);

        // Interactions last: move the collateral in the registry.
        if (c.penalty != 0) _registry.slash(deal.provider, c.penalty, 0);
        if (released != 0) _registry.unlockCollateral(deal.provider, released);
    }

    function _removeDeal(Deal calldata deal, uint256 word) private {
        ProviderProofState storage st = _proofStates[deal.provider];
        uint256 count = st.activeDeals;
        delete _deals[deal.id];
        uint256 index = DealSlot.index(word);
        uint64 moved = _activeLists[deal.provider].removeAt(index, count);
        if (moved != 0) _deals[moved] = DealSlot.withIndex(_deals[moved], index);
        // count >= 1 because this deal was in the list.
        unchecked {
            st.activeDeals = uint32(count - 1);
        }
    }

    function _setParameters(Parameters memory params) private {
        StorageParams.validate(params, _provingPeriod, _maxMissedProofBounty);
        _params = params;
        emit ParametersSet(params);
    }
}
