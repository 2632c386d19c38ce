// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { DrawClasses } from "./DrawClasses.sol";
import { MarketLayout } from "./MarketLayout.sol";

/// @title DataSetUpdateFastPath
/// @notice The common signed state update, applied inside the market (internal functions: no call into a linked
///         library): one entry, signed with the client's own key, for a live data set of the caller that stays in its
///         draw class (`DrawClasses`), from a provider whose epoch has no closed period to record and who never missed a period, with
///         the escrow covering the lockup. It applies exactly what `DataSetUpdates.applyStates` applies for that entry
///         (docs/SPEC.md §4.2: the same checks, accounting and writes, the same event). Anything else — a session key,
///         an ERC-1271 signer, a class change, a skip, a revert, periods to record, a fault log to read, amounts
///         beyond plain arithmetic — returns false with nothing written, and the market hands the call to the library,
///         which applies, skips or rejects it.
/// @dev The data set's words are read and written whole, with the bit offsets of `MarketLayout`; every mask and shift
///      is that of the field named beside it. test/storage/updateFastPath.test.ts checks that both paths leave the
///      same state.
library DataSetUpdateFastPath {
    /// @notice EIP-712 type hash of `DataSetState` (the market's `STATE_TYPEHASH`).
    bytes32 internal constant STATE_TYPEHASH = keccak256(
        "DataSetState(uint64 dataSetId,uint64 version,bytes32 root,uint64 span)"
    );

    /// @dev Highest `s` of a canonical ECDSA signature (secp256k1n / 2), as OpenZeppelin's `ECDSA` checks it.
    uint256 private constant MAX_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    /// @dev `_admit`'s and `_account`'s answer when the fast path does not apply.
    uint256 private constant NO = type(uint256).max;
    /// @dev Bit offset of `ProofState.missedPeriods` in the proving state's word.
    uint256 private constant MISSED_PERIODS_BIT = 96;
    /// @dev `DataSetMath.LEAVES_PER_TIB × DataSetMath.MONTH` (2^34 × 2,592,000): leaf-seconds of a TiB-month, as a
    ///      literal for assembly.
    uint256 private constant TIB_MONTH = 44_530_220_924_928_000;

    /// @notice Apply `e` when it is the common case described above; false, with nothing written, otherwise.
    /// @param s The market's storage.
    /// @param e The entry.
    /// @param maxSpan The size bound, `maxDataSetSize / 64` leaves.
    /// @param domainSeparator The market's EIP-712 domain separator.
    /// @param provingPeriod The market's proving period (seconds).
    /// @param currentPeriod The current period.
    /// @return Whether it was applied.
    function tryApply(
        MarketLayout.Layout storage s,
        IStorageMarket.SignedState calldata e,
        uint256 maxSpan,
        bytes32 domainSeparator,
        uint256 provingPeriod,
        uint256 currentPeriod
    ) internal returns (bool) {
        uint256 id;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // `e` starts with the state: dataSetId, version, root, span. As the ABI decoder (and the library's copy of
            // the state) does, revert when the id, version or span does not fit in 64 bits; read as words from here on.
            id := calldataload(e)
            if gt(or(or(id, calldataload(add(e, 0x20))), calldataload(add(e, 0x60))), 0xffffffffffffffff) {
                revert(0, 0)
            }
        }
        MarketLayout.DataSet storage d = s.sets[uint64(id)];
        (uint256 w1, uint256 clock) = _admit(d, s.proofStates[msg.sender], e, maxSpan, currentPeriod);
        if (clock == NO) return false;
        uint256 w0 = MarketLayout.loadWord(d, 0);
        if (!_signedByClient(e, w0, domainSeparator)) return false;
        uint256 parity = _account(d, e, w0, w1, clock, provingPeriod);
        if (parity == NO) return false;
        _written(s.roots[uint64(id)], e, parity, clock);
        return true;
    }

    /// @dev Word 1 of the data set and, when it is a live data set of the caller whose new span stays in its size class (`_account` then
    ///      requires its draw class)
    ///      and within the bound, the caller's epoch and write tag (`epoch | tag << 32`), as
    ///      `ProviderEpochs.openEpochInline` finds them from one read of the proving state for a provider that holds
    ///      bytes (this data set is in a class, so the epoch cannot restart). `NO` otherwise, or when a closed period
    ///      is left to record, or when the caller ever missed a period (the accounting would read its fault log).
    function _admit(
        MarketLayout.DataSet storage d,
        MarketLayout.ProofState storage st,
        IStorageMarket.SignedState calldata e,
        uint256 maxSpan,
        uint256 currentPeriod
    ) private view returns (uint256 w1, uint256 clock) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            clock := not(0)
            w1 := sload(add(d.slot, 1))
            let span := calldataload(add(e, 0x60))
            let plusOne := and(shr(240, w1), 0xff) // classPlusOne
            if and(
                and(
                    eq(and(w1, 0xffffffffffffffffffffffffffffffffffffffff), caller()),
                    eq(and(shr(224, w1), 0xff), 1)
                ),
                and(iszero(iszero(plusOne)), iszero(gt(span, maxSpan)))
            ) {
                // Same class, `ceil(log2 span) == plusOne - 1`: 2^(c-1) < span <= 2^c (span == 1 for class 0).
                let capacity := shl(sub(plusOne, 1), 1)
                if and(iszero(gt(span, capacity)), gt(span, shr(1, capacity))) {
                    let w := sload(st.slot)
                    let epoch := and(w, 0xffffffff) // nextPeriod
                    if and(
                        iszero(lt(epoch, currentPeriod)),
                        iszero(and(shr(MISSED_PERIODS_BIT, w), 0xffffffff))
                    ) {
                        // Restarted into this epoch and its seed block not yet past: writes apply to the epoch itself.
                        let restarted := and(
                            eq(and(shr(160, w), 0xffffffff), epoch), // restartEpoch
                            iszero(gt(number(), and(shr(32, w), 0xffffffffffffffff))) // seedBlock
                        )
                        // A restart epoch is at least 1 (the current period + 1): epoch 0 is left to the library.
                        if iszero(and(restarted, iszero(epoch))) {
                            clock := or(epoch, shl(32, sub(epoch, restarted)))
                        }
                    }
                }
            }
        }
    }

    /// @dev Whether the entry's signer is the client (word 0) and `e.signature` a canonical 65-byte ECDSA signature of
    ///      the state's EIP-712 digest by the client's key (what `ECDSA.tryRecoverCalldata` accepts).
    function _signedByClient(
        IStorageMarket.SignedState calldata e,
        uint256 w0,
        bytes32 domainSeparator
    ) private view returns (bool ok) {
        bytes32 typeHash = STATE_TYPEHASH;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let client := and(w0, 0xffffffffffffffffffffffffffffffffffffffff)
            // A signer word with bits above 160 is not equal (the library's decoder rejects it).
            if eq(calldataload(add(e, 0x80)), client) {
                // The signature's offset (word 5 of the entry, relative to it), read without the decoder's checks: a
                // signature that is not 65 bytes inside the calldata recovers no key here, and the library then
                // decodes the entry with those checks.
                let sig := add(e, calldataload(add(e, 0xa0)))
                if or(iszero(eq(calldataload(sig), 65)), gt(add(sig, 0x61), calldatasize())) {
                    sig := calldatasize()
                }
                let ptr := mload(0x40)
                // The struct hash: the type hash, then the state's four words as they are in calldata.
                mstore(ptr, typeHash)
                calldatacopy(add(ptr, 0x20), e, 0x80)
                let structHash := keccak256(ptr, 0xa0)
                // The digest: "\x19\x01" ‖ domain separator ‖ struct hash.
                mstore(ptr, shl(240, 0x1901))
                mstore(add(ptr, 0x02), domainSeparator)
                mstore(add(ptr, 0x22), structHash)
                let digest := keccak256(ptr, 0x42)
                let sv := calldataload(add(sig, 0x40))
                // A high `s` is malleable and rejected, as by `ECDSA`; a `v` other than 27 or 28 recovers nothing.
                if iszero(gt(sv, MAX_S)) {
                    mstore(ptr, digest)
                    mstore(add(ptr, 0x20), byte(0, calldataload(add(sig, 0x60))))
                    mstore(add(ptr, 0x40), calldataload(add(sig, 0x20)))
                    mstore(add(ptr, 0x60), sv)
                    mstore(0x00, 0)
                    if staticcall(gas(), 0x01, ptr, 0x80, 0x00, 0x20) {
                        let recovered := mload(0x00)
                        ok := and(iszero(iszero(recovered)), eq(recovered, client))
                    }
                }
            }
        }
    }

    /// @dev Version, accounting and funding of the entry; when all pass, writes word 3 (when the accounting moved) and
    ///      word 2 and returns the root parity to write, else `NO` with nothing written.
    ///      - Version: above the stored one and below 2^56 (`StaleVersion` otherwise, in the library).
    ///      - Accounting (`DataSetAccrual.accrueWordsInline` with no missed period): `[paidThrough, min(epoch, end))`
    ///        in at most two segments — the period of the last write at the span before it, the periods after at the
    ///        span after it — each paying `span × P` per period, less the data set's declared period; periods with
    ///        span 0 are neither paid nor faults.
    ///      - Funding (docs/SPEC.md §6.3): escrow − owed ≥ `cost(price, span, (notice + 2) × P)` rounded up.
    ///      - Word 2 (`DataSetUpdates._nextWord2`): in a new write epoch the current span and root become the frozen
    ///        ones (`spanPrev`, the other root word).
    ///      Bounds: prices are below 2^96, spans below 2^64, periods below 2^32, the proving period below 2^22, so
    ///      every product below fits in a word, and the quotients are the exact floors and ceilings `DataSetMath`
    ///      computes; leaf-seconds above 2^128 (which `DataSetMath` would handle with `mulDiv`) return `NO`.
    function _account(
        MarketLayout.DataSet storage d,
        IStorageMarket.SignedState calldata e,
        uint256 w0,
        uint256 w1,
        uint256 clock,
        uint256 provingPeriod
    ) private returns (uint256 parity) {
        uint256 w2 = MarketLayout.loadWord(d, 2);
        // The data set is in a size class (`_admit`), so its current span (word 2) is > 0, and so is the new one: a
        // span that leaves its draw class moves the class counts, which only the library does.
        if (!_newerVersion(e, w2) || !DrawClasses.sameClass(uint64(w2), e.state.span)) return NO;
        uint256 lock = _lockup(w0, w1, e, provingPeriod);
        uint256 w3 = MarketLayout.loadWord(d, 3);
        uint256 next3 = _accrue(w1, w2, w3, clock, provingPeriod);
        if (next3 == NO || _available(w0, next3, MarketLayout.loadWord(d, 4)) < lock) return NO;
        if (next3 != w3) MarketLayout.storeWord(d, 3, next3);
        uint256 next2;
        (next2, parity) = _nextWord2(w2, e, clock);
        MarketLayout.storeWord(d, 2, next2);
    }

    /// @dev Whether the entry's version is above the stored one (word 2) and below 2^56.
    function _newerVersion(IStorageMarket.SignedState calldata e, uint256 w2) private pure returns (bool ok) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let version := calldataload(add(e, 0x20))
            ok := and(gt(version, shr(200, w2)), lt(version, shl(56, 1)))
        }
    }

    /// @dev The lockup of the entry's span, `ceil(price × span × (noticePeriods + 2) × P / TIB_MONTH)`.
    function _lockup(
        uint256 w0,
        uint256 w1,
        IStorageMarket.SignedState calldata e,
        uint256 provingPeriod
    ) private pure returns (uint256 lock) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let notice := and(shr(192, w1), 0xffffffff)
            let product := mul(
                shr(160, w0),
                mul(calldataload(add(e, 0x60)), mul(add(notice, 2), provingPeriod))
            )
            lock := div(add(product, sub(TIB_MONTH, 1)), TIB_MONTH)
        }
    }

    /// @dev Escrow not owed (word 4: `escrow`, `paid`) once word 3's leaf-seconds are earned at word 0's price.
    function _available(uint256 w0, uint256 w3, uint256 w4) private pure returns (uint256 available) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let earned := div(mul(shr(160, w0), and(w3, 0xffffffffffffffffffffffffffffffff)), TIB_MONTH)
            let paid := shr(128, w4)
            // Each difference counts only when positive (the product by the comparison zeroes it otherwise).
            let owed := mul(gt(earned, paid), sub(earned, paid))
            let escrow := and(w4, 0xffffffffffffffffffffffffffffffff)
            available := mul(gt(escrow, owed), sub(escrow, owed))
        }
    }

    /// @dev Word 3 accounted up to the epoch (itself when nothing is to account), or `NO` when the leaf-seconds would
    ///      not fit in 128 bits.
    function _accrue(
        uint256 w1,
        uint256 w2,
        uint256 w3,
        uint256 clock,
        uint256 provingPeriod
    ) private pure returns (uint256 next3) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            next3 := w3
            let pt := and(shr(128, w3), 0xffffffff) // paidThrough
            let to := and(clock, 0xffffffff) // the epoch
            let end := and(shr(160, w1), 0xffffffff) // endPeriod
            if and(iszero(iszero(end)), lt(end, to)) {
                to := end
            }
            if gt(to, pt) {
                let declaredPlusOne := and(shr(160, w2), 0xffffffff)
                let at := and(shr(128, w2), 0xffffffff) // writtenAt
                let leafPeriods := 0
                let declared := 0
                if and(iszero(lt(at, pt)), lt(at, to)) {
                    let spanPrev := and(shr(64, w2), 0xffffffffffffffff)
                    if spanPrev {
                        declared := eq(declaredPlusOne, add(at, 1))
                        leafPeriods := mul(spanPrev, sub(1, declared))
                    }
                    pt := add(at, 1)
                }
                if lt(pt, to) {
                    let spanCur := and(w2, 0xffffffffffffffff)
                    if spanCur {
                        let dc := and(gt(declaredPlusOne, pt), iszero(gt(declaredPlusOne, to)))
                        declared := add(declared, dc)
                        leafPeriods := add(leafPeriods, mul(spanCur, sub(sub(to, pt), dc)))
                    }
                }
                let total := add(and(w3, 0xffffffffffffffffffffffffffffffff), mul(leafPeriods, provingPeriod))
                next3 := not(0)
                if iszero(shr(128, total)) {
                    // leafSeconds, paidThrough, declaredFaults (cut to 32 bits); missedFaults and the top bits kept.
                    let declaredFaults := and(add(shr(192, w3), declared), 0xffffffff)
                    next3 := or(
                        or(total, shl(128, to)),
                        or(and(w3, or(shl(160, 0xffffffff), shl(224, 0xffffffff))), shl(192, declaredFaults))
                    )
                }
            }
        }
    }

    /// @dev Word 2 after the write (span, spanPrev, writtenAt = tag, lastDeclaredPlusOne kept, parity, version) and the
    ///      root parity to write: in a new write epoch the current span and root become the frozen ones.
    function _nextWord2(
        uint256 w2,
        IStorageMarket.SignedState calldata e,
        uint256 clock
    ) private pure returns (uint256 next2, uint256 parity) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let tag := shr(32, clock)
            parity := and(shr(192, w2), 0xff)
            let spanPrev := and(shr(64, w2), 0xffffffffffffffff)
            if iszero(eq(and(shr(128, w2), 0xffffffff), tag)) {
                spanPrev := and(w2, 0xffffffffffffffff)
                parity := xor(parity, 1)
            }
            next2 := or(
                or(
                    or(calldataload(add(e, 0x60)), shl(64, spanPrev)),
                    or(shl(128, tag), and(w2, shl(160, 0xffffffff)))
                ),
                or(shl(192, parity), shl(200, calldataload(add(e, 0x20))))
            )
        }
    }

    /// @dev The root write (`roots[id][parity]`) and `DataSetUpdated(id, version, root, span, effectivePeriod)`, the
    ///      effective period being the epoch + 1, or the epoch itself when writes apply to it (a fresh restart).
    function _written(
        bytes32[2] storage roots,
        IStorageMarket.SignedState calldata e,
        uint256 parity,
        uint256 clock
    ) private {
        bytes32 topic = IStorageMarket.DataSetUpdated.selector;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(add(roots.slot, parity), calldataload(add(e, 0x40)))
            let epoch := and(clock, 0xffffffff)
            let ptr := mload(0x40)
            // version, root, span as they are in calldata (checked to fit), then the effective period.
            calldatacopy(ptr, add(e, 0x20), 0x60)
            mstore(add(ptr, 0x60), add(epoch, eq(epoch, shr(32, clock))))
            log2(ptr, 0x80, topic, calldataload(e))
        }
    }
}
