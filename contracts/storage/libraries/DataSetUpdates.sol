// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ECDSA } from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import { MessageHashUtils } from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import { SignatureChecker } from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { DataSetAccrual } from "./DataSetAccrual.sol";
import { DataSetMath } from "./DataSetMath.sol";
import { MarketLayout } from "./MarketLayout.sol";
import { ProofBond } from "./ProofBond.sol";
import { ProviderEpochs } from "./ProviderEpochs.sol";

/// @title DataSetUpdates
/// @notice Applying client-signed data set states (docs/SPEC.md, "Data sets"): signature by the client or a
///         session key within its scope, strictly increasing versions, escrow covering the lockup of the new span,
///         then the copy-on-write write of root and span in the provider's epoch.
/// @dev Deployed and linked (public functions) so the market stays under the 24 KiB limit.
library DataSetUpdates {
    /// @notice EIP-712 type hash of `DataSetState` (the market's `STATE_TYPEHASH`).
    bytes32 internal constant STATE_TYPEHASH = keccak256(
        "DataSetState(uint64 dataSetId,uint64 version,bytes32 root,uint64 span)"
    );

    /// @notice What every entry of a batch needs (`epoch` and `tag` are filled in once the caller's epoch is open).
    struct Context {
        bytes32 domainSeparator;
        uint32 epoch;
        uint32 tag;
        uint256 provingPeriod;
    }

    /// @notice Open an empty data set on the client's signed terms (the caller is the provider) and refill the
    ///         provider's proof bond.
    /// @param s The market's storage.
    /// @param terms The client's signed terms.
    /// @param signature The client's signature.
    /// @param digest The terms' EIP-712 digest.
    /// @return id The new data set's id.
    /// @return bond The proof-bond tokens to move (charged periods, stake to lock).
    function create(
        MarketLayout.Layout storage s,
        IStorageMarket.CreateDataSet calldata terms,
        bytes calldata signature,
        bytes32 digest
    ) public returns (uint64 id, ProofBond.Charge memory bond) {
        if (terms.provider != msg.sender)
            revert IStorageMarket.MarketNotTermsProvider(terms.provider, msg.sender);
        if (block.timestamp > terms.deadline)
            revert IStorageMarket.MarketExpired(terms.deadline, block.timestamp);
        if (terms.pricePerTiBMonth == 0) revert IStorageMarket.MarketZeroPrice();
        if (terms.pricePerTiBMonth > type(uint96).max)
            revert IStorageMarket.MarketPriceTooHigh(terms.pricePerTiBMonth, type(uint96).max);
        uint32 maxNotice = s.params.maxNoticePeriods;
        if (terms.noticePeriods > maxNotice)
            revert IStorageMarket.MarketBadNotice(terms.noticePeriods, maxNotice);
        _spendNonce(s, terms.client, terms.nonce);
        if (!_isSignedBy(terms.client, digest, signature)) {
            revert IStorageMarket.MarketBadSignature(terms.client);
        }
        // Ids grow by one per data set and cannot reach 2^64.
        unchecked {
            id = ++s.count;
        }
        _store(s.sets[id], terms);
        emit IStorageMarket.DataSetCreated(
            id,
            terms.client,
            msg.sender,
            terms.pricePerTiBMonth,
            terms.collateralPerTiB,
            terms.noticePeriods,
            terms.nonce
        );
        ProofBond.open(s, msg.sender, bond);
    }

    /// @notice Cancel the caller's creation nonce `nonce` (the market's `cancelNonce`; here so that the market stays
    ///         under the size limit): reverts `MarketNonceUsed` when it is already used or cancelled.
    /// @param s The market's storage.
    /// @param nonce The nonce.
    function cancelNonce(MarketLayout.Layout storage s, uint64 nonce) public {
        _spendNonce(s, msg.sender, nonce);
        emit IStorageMarket.NonceCancelled(msg.sender, nonce);
    }

    function _spendNonce(MarketLayout.Layout storage s, address client, uint64 nonce) private {
        mapping(uint256 => uint256) storage bits = s.nonceBits[client];
        uint256 bit = uint256(1) << (nonce & 0xff);
        uint256 word = bits[nonce >> 8];
        if (word & bit != 0) revert IStorageMarket.MarketNonceUsed(client, nonce);
        bits[nonce >> 8] = word | bit;
    }

    function _store(MarketLayout.DataSet storage d, IStorageMarket.CreateDataSet calldata terms) private {
        d.client = terms.client;
        d.noticePeriods = terms.noticePeriods;
        d.status = IStorageMarket.Status.Live;
        d.provider = msg.sender;
        d.pricePerTiBMonth = uint96(terms.pricePerTiBMonth);
        d.collateralPerTiB = terms.collateralPerTiB;
    }

    /// @notice Open the caller's epoch (missed periods recorded first) and apply its signed states; returns how
    ///         many applied and the collateral to lock and unlock.
    /// @param s The market's storage.
    /// @param encodedStates The market call's arguments after its selector: the ABI encoding of `(SignedState[])`,
    ///        checked by the market's decoder.
    /// @param domainSeparator The market's EIP-712 domain separator.
    /// @param provingPeriod The market's proving period (seconds).
    /// @param currentPeriod The current period.
    /// @return applied Number of states applied.
    /// @return toLock Collateral to lock.
    /// @return toUnlock Collateral to unlock.
    function applyStates(
        MarketLayout.Layout storage s,
        bytes calldata encodedStates,
        bytes32 domainSeparator,
        uint256 provingPeriod,
        uint256 currentPeriod
    ) public returns (uint256 applied, uint256 toLock, uint256 toUnlock) {
        Context memory ctx = Context({
            domainSeparator: domainSeparator,
            epoch: 0,
            tag: 0,
            provingPeriod: provingPeriod
        });
        return _applyAll(s, _statesOf(encodedStates), ctx, currentPeriod);
    }

    function _applyAll(
        MarketLayout.Layout storage s,
        IStorageMarket.SignedState[] calldata states,
        Context memory ctx,
        uint256 currentPeriod
    ) private returns (uint256 applied, uint256 toLock, uint256 toUnlock) {
        // When the first entry's data set is the caller's and in a size class, the caller holds bytes: the epoch
        // cannot restart and its class mask is not read. (Any other first entry reverts or is checked in full.)
        uint256 first = MarketLayout.loadWord(s.sets[states[0].state.dataSetId], 1);
        bool holdsBytes =
            address(uint160(first)) == msg.sender && uint8(first >> MarketLayout.CLASS_BIT) != 0;
        (ctx.epoch, ctx.tag) = ProviderEpochs.openEpochInline(s, msg.sender, currentPeriod, holdsBytes);
        uint256 maxSpan = uint256(s.params.maxDataSetSize) >> 6;
        for (uint256 i = 0; i < states.length; ++i) {
            (bool ok, uint256 lockDelta, uint256 unlockDelta) = _applyOne(s, states[i], ctx, maxSpan);
            if (!ok) continue;
            toLock += lockDelta;
            toUnlock += unlockDelta;
            ++applied;
        }
    }

    /// @dev The entries of `encoded`, the ABI encoding of `(SignedState[])` that the market's external decoder has
    ///      already checked: a calldata view of it, without decoding it into memory.
    function _statesOf(
        bytes calldata encoded
    ) private pure returns (IStorageMarket.SignedState[] calldata states) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let head := add(encoded.offset, calldataload(encoded.offset))
            states.length := calldataload(head)
            states.offset := add(head, 0x20)
        }
    }

    /// @dev One entry. Words 0 to 4 of the data set are read once each and word 2 (span history and version) is
    ///      written once: the checks and their order are those of docs/SPEC.md ("Data sets"): provider, size bound,
    ///      signature, status, version, accounting, funding; then the copy-on-write write of root and span.
    function _applyOne(
        MarketLayout.Layout storage s,
        IStorageMarket.SignedState calldata e,
        Context memory ctx,
        uint256 maxSpan
    ) private returns (bool, uint256, uint256) {
        IStorageMarket.DataSetState memory st = _copyState(e);
        (bool admitted, IStorageMarket.SkipReason reason, uint256 w1, uint256 w2) = _admit(
            s,
            e,
            st,
            ctx,
            maxSpan
        );
        if (!admitted) {
            emit IStorageMarket.DataSetUpdateSkipped(st.dataSetId, st.version, reason);
            return (false, 0, 0);
        }
        return _write(s, st, w1, w2, ctx);
    }

    /// @dev One copy of the entry's state in memory, read from there on: its four static words, reverting (as the ABI
    ///      decoder does) when the id, version or span does not fit in 64 bits.
    function _copyState(
        IStorageMarket.SignedState calldata e
    ) private pure returns (IStorageMarket.DataSetState memory st) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // `e` starts with the state, a static struct of four words: dataSetId, version, root, span.
            calldatacopy(st, e, 0x80)
            if gt(or(or(mload(st), mload(add(st, 0x20))), mload(add(st, 0x60))), 0xffffffffffffffff) {
                revert(0, 0)
            }
        }
    }

    /// @dev The checks of one entry: reverts for a data set of another provider, a span above the bound or a bad
    ///      signature; else whether it applies, why not, and the words 1 and 2 it read (word 2 only when live).
    function _admit(
        MarketLayout.Layout storage s,
        IStorageMarket.SignedState calldata e,
        IStorageMarket.DataSetState memory st,
        Context memory ctx,
        uint256 maxSpan
    ) private returns (bool ok, IStorageMarket.SkipReason reason, uint256 w1, uint256 w2) {
        uint64 span = st.span;
        MarketLayout.DataSet storage d = s.sets[st.dataSetId];
        w1 = MarketLayout.loadWord(d, 1);
        if (address(uint160(w1)) != msg.sender)
            revert IStorageMarket.MarketNotDataSetParty(st.dataSetId, msg.sender);
        if (span > maxSpan) revert IStorageMarket.MarketBadSpan(span, maxSpan);
        uint256 w0 = MarketLayout.loadWord(d, 0);
        _checkSignature(s, address(uint160(w0)), msg.sender, e, st, ctx.domainSeparator);
        reason = IStorageMarket.SkipReason.NotLive;
        if (uint8(w1 >> MarketLayout.STATUS_BIT) != uint8(IStorageMarket.Status.Live))
            return (false, reason, w1, 0);
        w2 = MarketLayout.loadWord(d, 2);
        if (st.version <= w2 >> MarketLayout.VERSION_BIT || st.version > type(uint56).max)
            return (false, IStorageMarket.SkipReason.StaleVersion, w1, w2);
        ok = _funded(s, st, w0, w1, w2, ctx);
        reason = IStorageMarket.SkipReason.Unfunded;
    }

    /// @dev Account the data set, then whether its escrow not owed covers the lockup of `span` (`lockup` in
    ///      docs/SPEC.md: the notice plus the unresolved and the current period).
    function _funded(
        MarketLayout.Layout storage s,
        IStorageMarket.DataSetState memory st,
        uint256 w0,
        uint256 w1,
        uint256 w2,
        Context memory ctx
    ) private returns (bool) {
        MarketLayout.DataSet storage d = s.sets[st.dataSetId];
        uint256 w3 = DataSetAccrual.accrueWordsInline(
            s,
            d,
            w1,
            w2,
            MarketLayout.loadWord(d, 3),
            ctx.epoch,
            ctx.provingPeriod
        );
        uint256 price = w0 >> MarketLayout.PRICE_BIT;
        uint256 lock = DataSetMath.cost(
            price,
            st.span,
            (uint256(uint32(w1 >> MarketLayout.NOTICE_BIT)) + 2) * ctx.provingPeriod
        );
        return _available(price, uint128(w3), MarketLayout.loadWord(d, 4)) >= lock;
    }

    /// @dev `ProviderEpochs.writeInline` and the version for a live data set whose words 1 and 2 the caller read: the
    ///      span history and the version in one write of word 2, the root in the current parity's word, the draw-class
    ///      move only when the draw class changes; then `DataSetUpdated`.
    function _write(
        MarketLayout.Layout storage s,
        IStorageMarket.DataSetState memory st,
        uint256 w1,
        uint256 w2,
        Context memory ctx
    ) private returns (bool, uint256 toLock, uint256 toUnlock) {
        uint64 span = st.span;
        uint64 id = st.dataSetId;
        (uint256 next, uint256 parity) = _nextWord2(w2, span, st.version, ctx.tag);
        MarketLayout.storeWord(s.sets[id], 2, next);
        s.roots[id][parity] = st.root;
        // The draw class moves with the span (`DrawClasses`): the old one is that of the current span (word 2).
        (uint256 oldPlusOne, uint256 newPlusOne) = ProviderEpochs.drawClassMove(
            uint64(w2),
            uint8(w1 >> MarketLayout.CLASS_BIT),
            span
        );
        if (oldPlusOne != newPlusOne)
            (toLock, toUnlock) = ProviderEpochs.changeClassInline(s, id, oldPlusOne, newPlusOne, ctx.tag);
        emit IStorageMarket.DataSetUpdated(
            id,
            st.version,
            st.root,
            span,
            ctx.epoch == ctx.tag ? ctx.epoch + 1 : ctx.epoch
        );
        return (true, toLock, toUnlock);
    }

    /// @dev Word 2 after writing `span` and `version` in epoch `tag`, and the root parity to write: in a new epoch the
    ///      current span and root become the frozen ones (`spanPrev`, the other root word).
    function _nextWord2(
        uint256 w2,
        uint256 span,
        uint256 version,
        uint256 tag
    ) private pure returns (uint256 next, uint256 parity) {
        parity = uint8(w2 >> MarketLayout.PARITY_BIT);
        uint256 spanPrev = uint64(w2 >> MarketLayout.SPAN_PREV_BIT);
        if (uint32(w2 >> MarketLayout.WRITTEN_AT_BIT) != tag) {
            spanPrev = uint64(w2);
            parity = 1 - parity;
        }
        // span < 2^64, tag < 2^32 and version < 2^56 (checked by `_admit`): each field keeps its width.
        next =
            span |
            (spanPrev << MarketLayout.SPAN_PREV_BIT) |
            (tag << MarketLayout.WRITTEN_AT_BIT) |
            (uint256(uint32(w2 >> MarketLayout.DECLARED_BIT)) << MarketLayout.DECLARED_BIT) |
            (parity << MarketLayout.PARITY_BIT) |
            (version << MarketLayout.VERSION_BIT);
    }

    /// @dev Escrow not owed for accounted time, from word 4 (`escrow`, `paid`) and the accounted leaf-seconds.
    function _available(uint256 price, uint256 leafSeconds, uint256 w4) private pure returns (uint256) {
        uint256 earned = DataSetMath.earned(price, leafSeconds);
        uint256 paid = w4 >> MarketLayout.PAID_BIT;
        uint256 owed = earned > paid ? earned - paid : 0;
        uint256 escrow = uint128(w4);
        return escrow > owed ? escrow - owed : 0;
    }

    function _checkSignature(
        MarketLayout.Layout storage s,
        address client,
        address provider,
        IStorageMarket.SignedState calldata e,
        IStorageMarket.DataSetState memory st,
        bytes32 domainSeparator
    ) private view {
        address signer = e.signer;
        if (signer != client) {
            IStorageMarket.SessionKey memory k = s.sessionKeys[client][signer];
            if (
                block.timestamp > k.expiry ||
                st.span > k.maxSpan ||
                (k.provider != address(0) && k.provider != provider)
            ) revert IStorageMarket.MarketSessionKeyNotValid(client, signer, st.dataSetId);
        }
        bytes32 structHash;
        bytes32 typeHash = STATE_TYPEHASH;
        // The state in memory is its four static fields, checked when copied: its ABI encoding is those words,
        // hashed after the type hash (in free memory, not allocated) without encoding them again.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typeHash)
            mcopy(add(ptr, 0x20), st, 0x80)
            structHash := keccak256(ptr, 0xa0)
        }
        bytes32 digest = MessageHashUtils.toTypedDataHash(domainSeparator, structHash);
        if (!_isSignedBy(signer, digest, e.signature)) {
            revert IStorageMarket.MarketBadSignature(signer);
        }
    }

    /// @dev A 65-byte ECDSA signature by `signer`'s key, else an ERC-1271 signature of the contract at `signer`.
    ///      ECDSA is tried first so that an externally owned signer costs no code-size lookup of a cold account;
    ///      an account with code whose own key signed is accepted, as its key controls it.
    function _isSignedBy(
        address signer,
        bytes32 digest,
        bytes calldata signature
    ) private view returns (bool) {
        (address recovered, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature);
    }

    /// @notice Authorise `key` to sign states of the caller's data sets within `scope` (the market's
    ///         `authorizeSessionKey`; here so that the market stays under the size limit).
    /// @param s The market's storage.
    /// @param key The session key.
    /// @param scope Its scope.
    function authorizeSessionKey(
        MarketLayout.Layout storage s,
        address key,
        IStorageMarket.SessionKey calldata scope
    ) public {
        s.sessionKeys[msg.sender][key] = scope;
        emit IStorageMarket.SessionKeyAuthorized(
            msg.sender,
            key,
            scope.provider,
            scope.maxSpan,
            scope.expiry
        );
    }

    /// @notice Revoke the caller's session key `key` (the market's `revokeSessionKey`).
    /// @param s The market's storage.
    /// @param key The session key.
    function revokeSessionKey(MarketLayout.Layout storage s, address key) public {
        delete s.sessionKeys[msg.sender][key];
        emit IStorageMarket.SessionKeyRevoked(msg.sender, key);
    }
}
