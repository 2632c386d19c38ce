// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { DataSetMath } from "./DataSetMath.sol";
import { FaultLog } from "./FaultLog.sol";
import { MarketLayout } from "./MarketLayout.sol";

/// @title DataSetAccrual
/// @notice Cumulative, exact accounting of what a data set has earned (docs/SPEC.md, "Payments"): the resolved
///         periods `[paidThrough, min(nextPeriod, endPeriod))` fall into at most two segments — the period of the
///         last write (span before the write) and the periods after it (span after) — each paid `span × P` leaf-
///         seconds per period that was neither missed (the provider's FaultLog) nor declared (the data set's
///         last declaration, the only one that can be pending). O(1) whatever the backlog; O(log runs) with faults.
/// @dev Deployed and linked (public functions) so the market stays under the 24 KiB limit.
library DataSetAccrual {
    using FaultLog for FaultLog.Log;

    /// @notice What accounting up to `to` adds.
    struct Delta {
        uint256 leafSeconds;
        uint256 missed;
        uint256 declared;
        uint256 to;
        // Inputs of the segments.
        uint256 provingPeriod;
        uint256 declaredPlusOne;
        // Runs in the provider's FaultLog (0 when it never missed a period: the log is then not read).
        uint256 runs;
    }

    /// @notice The accrual of data set `id` over its resolved, unaccounted periods (not written).
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return a What accounting would add.
    function pending(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 provingPeriod
    ) public view returns (Delta memory a) {
        return pendingInline(s, id, provingPeriod);
    }

    /// @notice `pending`, inlined into the calling library (so libraries link no other library).
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return a What accounting would add.
    function pendingInline(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 provingPeriod
    ) internal view returns (Delta memory a) {
        MarketLayout.DataSet storage d = s.sets[id];
        address provider = d.provider;
        MarketLayout.ProofState storage st = s.proofStates[provider];
        uint256 to = st.nextPeriod;
        uint256 end = d.endPeriod;
        if (end != 0 && end < to) to = end;
        uint256 pt = d.paidThrough;
        a.to = to;
        if (to <= pt) {
            a.to = pt;
            return a;
        }
        uint256 at = d.writtenAt;
        a.provingPeriod = provingPeriod;
        a.declaredPlusOne = d.lastDeclaredPlusOne;
        if (st.missedPeriods != 0) a.runs = s.bonds[provider].faultRuns;
        FaultLog.Log storage log = s.faultLogs[provider];
        if (at >= pt && at < to) {
            _segment(a, log, d.spanPrev, at, at + 1);
            pt = at + 1;
        }
        if (pt < to) _segment(a, log, d.spanCur, pt, to);
    }

    /// @notice Account data set `id` up to its resolved horizon.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    function accrue(MarketLayout.Layout storage s, uint64 id, uint256 provingPeriod) public {
        accrueInline(s, id, provingPeriod);
    }

    /// @notice `accrue`, inlined into the calling library (so libraries link no other library).
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    function accrueInline(MarketLayout.Layout storage s, uint64 id, uint256 provingPeriod) internal {
        Delta memory a = pendingInline(s, id, provingPeriod);
        MarketLayout.DataSet storage d = s.sets[id];
        if (a.to == d.paidThrough) return;
        // leafSeconds <= span (< 2^50 by the size bound) × seconds (< 2^40): far below 2^128; fault counts are
        // bounded by the number of periods (< 2^32).
        d.leafSeconds = uint128(d.leafSeconds + a.leafSeconds);
        d.paidThrough = uint32(a.to);
        if (a.missed != 0) d.missedFaults = uint32(d.missedFaults + a.missed);
        if (a.declared != 0) d.declaredFaults = uint32(d.declaredFaults + a.declared);
    }

    /// @notice `accrueInline` for a caller that holds the data set's words 1 to 3 (a signed state update, which reads
    ///         them once): the same accounting from the words, word 3 written only when it changes.
    /// @param s The market's storage.
    /// @param d The data set.
    /// @param w1 Word 1 (`provider`, `endPeriod`).
    /// @param w2 Word 2 (`spanCur`, `spanPrev`, `writtenAt`, `lastDeclaredPlusOne`).
    /// @param w3 Word 3 (`leafSeconds`, `paidThrough`, fault counts).
    /// @param nextPeriod The provider's epoch (its next unresolved period).
    /// @param provingPeriod The market's proving period (seconds).
    /// @return Word 3 after the accounting.
    function accrueWordsInline(
        MarketLayout.Layout storage s,
        MarketLayout.DataSet storage d,
        uint256 w1,
        uint256 w2,
        uint256 w3,
        uint256 nextPeriod,
        uint256 provingPeriod
    ) internal returns (uint256) {
        Delta memory a = _pendingWords(
            s,
            w1,
            w2,
            uint32(w3 >> MarketLayout.PAID_THROUGH_BIT),
            nextPeriod,
            provingPeriod
        );
        if (a.to == uint32(w3 >> MarketLayout.PAID_THROUGH_BIT)) return w3;
        // As `accrueInline`: leafSeconds stays far below 2^128, fault counts below 2^32 (bounded by periods).
        uint256 missed = uint32(w3 >> MarketLayout.MISSED_FAULTS_BIT);
        uint256 declared = uint32(w3 >> MarketLayout.DECLARED_FAULTS_BIT);
        if (a.missed != 0) missed = uint32(missed + a.missed);
        if (a.declared != 0) declared = uint32(declared + a.declared);
        w3 =
            (w3 & ~((uint256(1) << 224) - 1)) |
            uint128(uint128(w3) + a.leafSeconds) |
            (a.to << MarketLayout.PAID_THROUGH_BIT) |
            (missed << MarketLayout.MISSED_FAULTS_BIT) |
            (declared << MarketLayout.DECLARED_FAULTS_BIT);
        MarketLayout.storeWord(d, 3, w3);
        return w3;
    }

    /// @dev `pendingInline` from words 1 and 2 and `paidThrough`.
    function _pendingWords(
        MarketLayout.Layout storage s,
        uint256 w1,
        uint256 w2,
        uint256 pt,
        uint256 nextPeriod,
        uint256 provingPeriod
    ) private view returns (Delta memory a) {
        uint256 to = nextPeriod;
        uint256 end = uint32(w1 >> MarketLayout.END_PERIOD_BIT);
        if (end != 0 && end < to) to = end;
        a.to = to;
        if (to <= pt) {
            a.to = pt;
            return a;
        }
        a.provingPeriod = provingPeriod;
        a.declaredPlusOne = uint32(w2 >> MarketLayout.DECLARED_BIT);
        address provider = address(uint160(w1));
        if (s.proofStates[provider].missedPeriods != 0) a.runs = s.bonds[provider].faultRuns;
        FaultLog.Log storage log = s.faultLogs[provider];
        uint256 at = uint32(w2 >> MarketLayout.WRITTEN_AT_BIT);
        if (at >= pt && at < to) {
            _segment(a, log, uint64(w2 >> MarketLayout.SPAN_PREV_BIT), at, at + 1);
            pt = at + 1;
        }
        if (pt < to) _segment(a, log, uint64(w2), pt, to);
    }

    function _segment(
        Delta memory a,
        FaultLog.Log storage log,
        uint256 span,
        uint256 from,
        uint256 to
    ) private view {
        uint256 declaredPlusOne = a.declaredPlusOne;
        // Periods in which the data set held nothing frozen are neither paid nor faults.
        if (span == 0) return;
        uint256 runs = a.runs;
        uint256 missed = runs != 0 ? log.missedBetween(runs, from, to) : 0;
        uint256 declared;
        if (declaredPlusOne > from && declaredPlusOne <= to) {
            uint256 p = declaredPlusOne - 1;
            // A declared period that was also missed is charged once, as missed.
            if (runs == 0 || log.missedBetween(runs, p, p + 1) == 0) declared = 1;
        }
        a.missed += missed;
        a.declared += declared;
        a.leafSeconds += span * (to - from - missed - declared) * a.provingPeriod;
    }

    /// @notice Take `amount` from the caller's live data set's escrow, up to what `withdrawableInline` allows (the
    ///         data set is accounted first); the market credits the caller afterwards.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param amount Tokens.
    /// @param provingPeriod The market's proving period (seconds).
    function withdrawEscrow(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 amount,
        uint256 provingPeriod
    ) public {
        MarketLayout.DataSet storage d = s.sets[id];
        if (msg.sender != d.client) revert IStorageMarket.MarketNotDataSetParty(id, msg.sender);
        if (d.status != IStorageMarket.Status.Live) revert IStorageMarket.MarketWrongStatus(id, d.status);
        accrueInline(s, id, provingPeriod);
        uint256 free = withdrawableInline(s, id, provingPeriod);
        if (amount > free) revert IStorageMarket.MarketAboveAvailable(id, amount, free);
        // amount <= free <= escrow.
        unchecked {
            d.escrow -= uint128(amount);
        }
        emit IStorageMarket.EscrowWithdrawn(id, amount);
    }

    /// @notice Tokens of the data set's escrow owed to the provider for resolved time (accounted or not).
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return The amount.
    function owedInline(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 provingPeriod
    ) internal view returns (uint256) {
        MarketLayout.DataSet storage d = s.sets[id];
        Delta memory a = pendingInline(s, id, provingPeriod);
        uint256 earned = DataSetMath.earned(d.pricePerTiBMonth, d.leafSeconds + a.leafSeconds);
        return earned > d.paid ? earned - d.paid : 0;
    }

    /// @notice Escrow not owed for resolved time.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return The amount.
    function availableInline(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 provingPeriod
    ) internal view returns (uint256) {
        uint256 escrow = s.sets[id].escrow;
        uint256 owed = owedInline(s, id, provingPeriod);
        return escrow > owed ? escrow - owed : 0;
    }

    /// @notice Escrow the client of a live data set may withdraw now: what is not owed, beyond the notice plus two
    ///         periods of its larger span (current or frozen).
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return The amount.
    function withdrawableInline(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 provingPeriod
    ) internal view returns (uint256) {
        MarketLayout.DataSet storage d = s.sets[id];
        if (d.status != IStorageMarket.Status.Live) return 0;
        uint256 free = availableInline(s, id, provingPeriod);
        uint256 span = d.spanCur > d.spanPrev ? d.spanCur : d.spanPrev;
        uint256 lock = DataSetMath.cost(
            d.pricePerTiBMonth,
            span,
            (uint256(d.noticePeriods) + 2) * provingPeriod
        );
        return free > lock ? free - lock : 0;
    }

    /// @notice Escrow not owed for resolved time, and what the notice plus one period of the current span costs
    ///         (below it, anyone may end the data set as unfunded).
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return availableNow Escrow not owed for resolved time.
    /// @return needed Cost of the notice plus one period.
    function fundingInline(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 provingPeriod
    ) internal view returns (uint256 availableNow, uint256 needed) {
        availableNow = availableInline(s, id, provingPeriod);
        MarketLayout.DataSet storage d = s.sets[id];
        needed = DataSetMath.cost(
            d.pricePerTiBMonth,
            d.spanCur,
            (uint256(d.noticePeriods) + 1) * provingPeriod
        );
    }
}
