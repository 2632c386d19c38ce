// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../contracts/interfaces/IStorageMarket.sol";
import { DataSetAccrual } from "../../contracts/storage/libraries/DataSetAccrual.sol";
import { FaultLog } from "../../contracts/storage/libraries/FaultLog.sol";
import { MarketLayout } from "../../contracts/storage/libraries/MarketLayout.sol";
import { TestBase } from "./utils/TestBase.sol";

/// @notice A signed state update reads a data set's words whole (`MarketLayout.loadWord` and its bit offsets) and
///         accounts it from them (`DataSetAccrual.accrueWordsInline`): the offsets must be where Solidity packs the
///         fields, and the accounting from words must write exactly what the field-by-field `accrueInline` writes.
contract DataSetWordsTest is TestBase {
    using FaultLog for FaultLog.Log;

    uint64 internal constant ID = 7;
    address internal constant PROVIDER = address(0xBEEF);
    uint256 internal constant PERIOD = 3600;

    MarketLayout.Layout internal _fields;
    MarketLayout.Layout internal _words;

    struct Case {
        uint32 nextPeriod;
        uint32 endPeriod;
        uint32 paidThrough;
        uint32 writtenAt;
        uint64 spanCur;
        uint64 spanPrev;
        uint32 lastDeclaredPlusOne;
        uint128 leafSeconds;
        uint32 missedFaults;
        uint32 declaredFaults;
        uint32 missedFrom;
        uint32 missedCount;
    }

    function _store(MarketLayout.Layout storage s, Case memory c) private {
        MarketLayout.DataSet storage d = s.sets[ID];
        d.client = address(0xC1);
        d.pricePerTiBMonth = 2_500_000;
        d.provider = PROVIDER;
        d.endPeriod = c.endPeriod;
        d.noticePeriods = 3;
        d.status = IStorageMarket.Status.Live;
        d.classPlusOne = 9;
        d.lockedClassPlusOne = 9;
        d.spanCur = c.spanCur;
        d.spanPrev = c.spanPrev;
        d.writtenAt = c.writtenAt;
        d.lastDeclaredPlusOne = c.lastDeclaredPlusOne;
        d.rootParity = 1;
        d.version = 42;
        d.leafSeconds = c.leafSeconds;
        d.paidThrough = c.paidThrough;
        d.missedFaults = c.missedFaults;
        d.declaredFaults = c.declaredFaults;
        d.escrow = 5;
        d.paid = 6;
        d.collateralPerTiB = 8;
        d.classSlot = 3;
        s.proofStates[PROVIDER].nextPeriod = c.nextPeriod;
        if (c.missedCount != 0) {
            s.proofStates[PROVIDER].missedPeriods = c.missedCount;
            s.bonds[PROVIDER].faultRuns = uint64(
                s.faultLogs[PROVIDER].record(0, c.missedFrom, c.missedCount)
            );
        }
    }

    /// @notice Every field sits at the offset the update decodes it from.
    function test_fuzz_offsets_matchTheStructPacking(Case memory c) public {
        _store(_fields, c);
        MarketLayout.DataSet storage d = _fields.sets[ID];
        uint256 w0 = MarketLayout.loadWord(d, 0);
        uint256 w1 = MarketLayout.loadWord(d, 1);
        uint256 w2 = MarketLayout.loadWord(d, 2);
        uint256 w3 = MarketLayout.loadWord(d, 3);
        uint256 w4 = MarketLayout.loadWord(d, 4);
        assertEq(uint160(w0), uint160(d.client), "client");
        assertEq(w0 >> MarketLayout.PRICE_BIT, d.pricePerTiBMonth, "price");
        assertEq(uint160(w1), uint160(d.provider), "provider");
        assertEq(uint32(w1 >> MarketLayout.END_PERIOD_BIT), d.endPeriod, "endPeriod");
        assertEq(uint32(w1 >> MarketLayout.NOTICE_BIT), d.noticePeriods, "notice");
        assertEq(uint8(w1 >> MarketLayout.STATUS_BIT), uint8(d.status), "status");
        assertEq(uint8(w1 >> MarketLayout.CLASS_BIT), d.classPlusOne, "class");
        assertEq(uint64(w2), d.spanCur, "spanCur");
        assertEq(uint64(w2 >> MarketLayout.SPAN_PREV_BIT), d.spanPrev, "spanPrev");
        assertEq(uint32(w2 >> MarketLayout.WRITTEN_AT_BIT), d.writtenAt, "writtenAt");
        assertEq(uint32(w2 >> MarketLayout.DECLARED_BIT), d.lastDeclaredPlusOne, "lastDeclared");
        assertEq(uint8(w2 >> MarketLayout.PARITY_BIT), d.rootParity, "parity");
        assertEq(w2 >> MarketLayout.VERSION_BIT, d.version, "version");
        assertEq(uint128(w3), d.leafSeconds, "leafSeconds");
        assertEq(uint32(w3 >> MarketLayout.PAID_THROUGH_BIT), d.paidThrough, "paidThrough");
        assertEq(uint32(w3 >> MarketLayout.MISSED_FAULTS_BIT), d.missedFaults, "missedFaults");
        assertEq(uint32(w3 >> MarketLayout.DECLARED_FAULTS_BIT), d.declaredFaults, "declaredFaults");
        assertEq(uint128(w4), d.escrow, "escrow");
        assertEq(w4 >> MarketLayout.PAID_BIT, d.paid, "paid");
        MarketLayout.ProofState storage st = _fields.proofStates[PROVIDER];
        st.seedBlock = uint64(c.leafSeconds);
        st.restartEpoch = c.writtenAt;
        st.seedRefreshedPeriod = c.endPeriod;
        st.openDataSets = c.paidThrough;
        uint256 p = MarketLayout.loadProofState(st);
        assertEq(uint32(p), st.nextPeriod, "nextPeriod");
        assertEq(uint64(p >> MarketLayout.SEED_BLOCK_BIT), st.seedBlock, "seedBlock");
        assertEq(uint32(p >> MarketLayout.RESTART_EPOCH_BIT), st.restartEpoch, "restartEpoch");
    }

    /// @notice Accounting from the words writes the same six words as accounting field by field, with or without
    ///         missed periods in the provider's fault log, declared periods, an end and a write in the range.
    function test_fuzz_accrueWords_matchesAccrueInline(Case memory c) public {
        // Reachable states: spans below 2^44 (the size bound), periods below 2^31, the accounted leaf-seconds far
        // below 2^128, the write and the accounting at or before the epoch, missed periods inside it.
        c.spanCur = uint64(bound(c.spanCur, 0, 1 << 44));
        c.spanPrev = uint64(bound(c.spanPrev, 0, 1 << 44));
        c.nextPeriod = uint32(bound(c.nextPeriod, 1, 1 << 31));
        c.paidThrough = uint32(bound(c.paidThrough, 0, c.nextPeriod));
        c.writtenAt = uint32(bound(c.writtenAt, 0, c.nextPeriod));
        c.endPeriod = uint32(bound(c.endPeriod, 0, 1 << 31));
        c.lastDeclaredPlusOne = uint32(bound(c.lastDeclaredPlusOne, 0, c.nextPeriod));
        c.leafSeconds = uint128(bound(c.leafSeconds, 0, 1 << 100));
        c.missedFaults = uint32(bound(c.missedFaults, 0, 1 << 31));
        c.declaredFaults = uint32(bound(c.declaredFaults, 0, 1 << 31));
        c.missedFrom = uint32(bound(c.missedFrom, 0, c.nextPeriod - 1));
        c.missedCount = uint32(bound(c.missedCount, 0, c.nextPeriod - c.missedFrom));
        _store(_fields, c);
        _store(_words, c);
        DataSetAccrual.accrueInline(_fields, ID, PERIOD);
        MarketLayout.DataSet storage d = _words.sets[ID];
        uint256 w3 = DataSetAccrual.accrueWordsInline(
            _words,
            d,
            MarketLayout.loadWord(d, 1),
            MarketLayout.loadWord(d, 2),
            MarketLayout.loadWord(d, 3),
            c.nextPeriod,
            PERIOD
        );
        assertEq(w3, MarketLayout.loadWord(d, 3), "returned word 3 is the stored one");
        for (uint256 k = 0; k < 6; ++k) {
            assertEq(MarketLayout.loadWord(d, k), MarketLayout.loadWord(_fields.sets[ID], k), "same word");
        }
    }

    /// @notice A concrete case: a write in the unaccounted range, a declared period and two missed periods.
    function test_accrueWords_matchesAccrueInline_withFaultsAndAWrite() public {
        test_fuzz_accrueWords_matchesAccrueInline(
            Case({
                nextPeriod: 20,
                endPeriod: 0,
                paidThrough: 5,
                writtenAt: 9,
                spanCur: 1 << 20,
                spanPrev: 1 << 18,
                lastDeclaredPlusOne: 12,
                leafSeconds: 1 << 40,
                missedFaults: 1,
                declaredFaults: 2,
                missedFrom: 14,
                missedCount: 2
            })
        );
    }
}
