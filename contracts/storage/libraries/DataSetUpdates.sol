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

    /// @notice What the batch needs from the market (`epoch` and `tag` are filled in by `applyStates`).
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
    /// @param ctx Domain separator and proving period.
    /// @param currentPeriod The current period.
    /// @return applied Number of states applied.
    /// @return toLock Collateral to lock.
    /// @return toUnlock Collateral to unlock.
    function applyStates(
        MarketLayout.Layout storage s,
        bytes calldata encodedStates,
        Context memory ctx,
        uint256 currentPeriod
    ) public returns (uint256 applied, uint256 toLock, uint256 toUnlock) {
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
        MarketLayout.DataSet storage first = s.sets[states[0].state.dataSetId];
        bool holdsBytes = first.provider == msg.sender && first.classPlusOne != 0;
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

    function _applyOne(
        MarketLayout.Layout storage s,
        IStorageMarket.SignedState calldata e,
        Context memory ctx,
        uint256 maxSpan
    ) private returns (bool ok, uint256 lockDelta, uint256 unlockDelta) {
        IStorageMarket.DataSetState calldata st = e.state;
        MarketLayout.DataSet storage d = s.sets[st.dataSetId];
        if (d.provider != msg.sender) revert IStorageMarket.MarketNotDataSetParty(st.dataSetId, msg.sender);
        if (st.span > maxSpan) revert IStorageMarket.MarketBadSpan(st.span, maxSpan);
        _checkSignature(s, d, e, ctx.domainSeparator);
        IStorageMarket.SkipReason reason = IStorageMarket.SkipReason.NotLive;
        if (d.status == IStorageMarket.Status.Live) {
            if (st.version <= d.version || st.version > type(uint56).max) {
                reason = IStorageMarket.SkipReason.StaleVersion;
            } else {
                DataSetAccrual.accrueInline(s, st.dataSetId, ctx.provingPeriod);
                reason = IStorageMarket.SkipReason.Unfunded;
                ok = _available(d) >= lockup(d, st.span, ctx.provingPeriod);
            }
        }
        if (!ok) {
            emit IStorageMarket.DataSetUpdateSkipped(st.dataSetId, st.version, reason);
            return (false, 0, 0);
        }
        (lockDelta, unlockDelta) = ProviderEpochs.writeInline(s, st.dataSetId, st.root, st.span, ctx.tag);
        d.version = uint56(st.version);
        emit IStorageMarket.DataSetUpdated(
            st.dataSetId,
            st.version,
            st.root,
            st.span,
            ctx.epoch == ctx.tag ? ctx.epoch + 1 : ctx.epoch
        );
    }

    /// @notice Escrow a span must hold beyond what is owed: the notice plus the unresolved and the current period.
    /// @param d The data set.
    /// @param span The span (leaves).
    /// @param provingPeriod The market's proving period (seconds).
    /// @return The lockup.
    function lockup(
        MarketLayout.DataSet storage d,
        uint256 span,
        uint256 provingPeriod
    ) internal view returns (uint256) {
        return DataSetMath.cost(d.pricePerTiBMonth, span, (uint256(d.noticePeriods) + 2) * provingPeriod);
    }

    function _available(MarketLayout.DataSet storage d) private view returns (uint256) {
        uint256 earned = DataSetMath.earned(d.pricePerTiBMonth, d.leafSeconds);
        uint256 owed = earned > d.paid ? earned - d.paid : 0;
        uint256 escrow = d.escrow;
        return escrow > owed ? escrow - owed : 0;
    }

    function _checkSignature(
        MarketLayout.Layout storage s,
        MarketLayout.DataSet storage d,
        IStorageMarket.SignedState calldata e,
        bytes32 domainSeparator
    ) private view {
        address client = d.client;
        address signer = e.signer;
        IStorageMarket.DataSetState calldata st = e.state;
        if (signer != client) {
            IStorageMarket.SessionKey memory k = s.sessionKeys[client][signer];
            if (
                block.timestamp > k.expiry ||
                st.span > k.maxSpan ||
                (k.provider != address(0) && k.provider != d.provider)
            ) revert IStorageMarket.MarketSessionKeyNotValid(client, signer, st.dataSetId);
        }
        bytes32 digest = MessageHashUtils.toTypedDataHash(
            domainSeparator,
            keccak256(abi.encode(STATE_TYPEHASH, st))
        );
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
