// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { BasisPoints } from "../../payments/libraries/BasisPoints.sol";
import { SlashSplit } from "../../payments/libraries/SlashSplit.sol";
import { DataSetAccrual } from "./DataSetAccrual.sol";
import { DataSetMath } from "./DataSetMath.sol";
import { IRetrievalChallenges } from "../../interfaces/IRetrievalChallenges.sol";
import { MarketLayout } from "./MarketLayout.sol";
import { ProofBond } from "./ProofBond.sol";
import { ProviderEpochs } from "./ProviderEpochs.sol";

/// @title DataSetClosing
/// @notice How a data set's escrow and collateral are shared out when it closes (docs/SPEC.md, "Endings"), and
///         the record view.
/// @dev Deployed and linked (public functions) so the market stays under the 24 KiB limit. `close` writes the
///      data set's final state; the market credits the amounts and moves the collateral afterwards.
library DataSetClosing {
    /// @notice Amounts of a closing.
    struct Closing {
        address client;
        IStorageMarket.EndReason reason;
        uint256 paidToProvider;
        uint256 refund;
        uint256 penalty;
        uint256 toHarmed;
        uint256 toReporter;
        uint256 toTreasury;
        uint256 released;
        ProofBond.Charge bond;
    }

    /// @notice Account the data set to its end, pay what is due from its escrow, refund the rest, charge the
    ///         penalty of its end reason and mark it finalized; the provider's last open data set releases its
    ///         proof bond. Refused while a retrieval challenge of the data set is open (escaping a challenge must
    ///         cost at least what failing it costs: docs/SPEC.md §14).
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return c The amounts to credit and the collateral to slash and release.
    function close(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 provingPeriod
    ) public returns (Closing memory c) {
        address retrieval = s.retrieval;
        // A failed retrieval is the challenge's own enforcement (already resolved): nothing to ask.
        if (retrieval != address(0) && s.sets[id].endReason != IStorageMarket.EndReason.RetrievalFailed) {
            // A role holder that does not answer (not a challenge contract) holds nothing: funds are never stuck.
            (bool ok, bytes memory ret) = retrieval.staticcall(
                abi.encodeCall(IRetrievalChallenges.openChallengeOf, (id))
            );
            if (ok && ret.length == 32) {
                uint256 open = abi.decode(ret, (uint256));
                if (open != 0) revert IStorageMarket.MarketRetrievalChallengeOpen(id, open);
            }
        }
        DataSetAccrual.accrueInline(s, id, provingPeriod);
        MarketLayout.DataSet storage d = s.sets[id];
        uint256 earned = DataSetMath.earned(d.pricePerTiBMonth, d.leafSeconds);
        uint256 escrow = d.escrow;
        uint256 paid = d.paid;
        if (earned > paid) {
            c.paidToProvider = earned - paid;
            if (c.paidToProvider > escrow) c.paidToProvider = escrow;
        }
        // paidToProvider <= escrow; paid + escrow < 2^128 (top-up bound).
        unchecked {
            c.refund = escrow - c.paidToProvider;
            d.paid = uint128(paid + c.paidToProvider);
        }
        d.escrow = 0;
        d.status = IStorageMarket.Status.Finalized;
        uint256 lockedPlusOne = d.lockedClassPlusOne;
        uint256 locked =
            lockedPlusOne == 0 ? 0 : DataSetMath.collateral(d.collateralPerTiB, lockedPlusOne - 1);
        d.lockedClassPlusOne = 0;
        c.client = d.client;
        c.reason = d.endReason;
        IStorageMarket.Parameters storage p = s.params;
        uint256 bountyBps;
        if (
            c.reason == IStorageMarket.EndReason.Faulty ||
            c.reason == IStorageMarket.EndReason.RetrievalFailed
        ) {
            // Ended for faults or an unanswered retrieval challenge: the whole collateral, with a bounty.
            c.penalty = locked;
            bountyBps = p.faultTerminationBountyBps;
        } else {
            c.penalty = DataSetMath.faultPenalty(
                locked,
                d.missedFaults,
                d.declaredFaults,
                p.missedFaultPenaltyBps,
                p.declaredFaultPenaltyBps
            );
            if (c.reason == IStorageMarket.EndReason.ProviderTerminated) {
                c.penalty += BasisPoints.share(locked, p.providerTerminationFeeBps);
                if (c.penalty > locked) c.penalty = locked;
            }
        }
        if (c.penalty != 0) {
            (c.toTreasury, c.toReporter, c.toHarmed) = SlashSplit.split(
                c.penalty,
                p.treasuryShareBps,
                bountyBps
            );
        }
        c.released = locked - c.penalty;
        ProofBond.close(s, d.provider, c.bond);
    }

    /// @notice The step `finalizeDataSet` takes: remove an ending data set from its provider's classes once the
    ///         provider's next period is its last (the removal applies from the next epoch), and say whether it can
    ///         close (its end is resolved and it is removed). Reverts with `MarketNotOver` when neither applies.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param currentPeriod The current period.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return closeNow Whether the market closes it now.
    function finalizeStep(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 currentPeriod,
        uint256 provingPeriod
    ) public returns (bool closeNow) {
        MarketLayout.DataSet storage d = s.sets[id];
        if (d.status != IStorageMarket.Status.Ending) revert IStorageMarket.MarketWrongStatus(id, d.status);
        address provider = d.provider;
        _recordMissed(s, provider, currentPeriod);
        uint32 next = s.proofStates[provider].nextPeriod;
        uint32 end = d.endPeriod;
        bool progressed;
        if (d.classPlusOne != 0 && uint256(next) + 1 >= end) {
            // The removal applies from the next epoch, which is at or after the end: no unpaid proving.
            _removeNext(s, id, provider, currentPeriod, provingPeriod);
            progressed = true;
        }
        closeNow = d.classPlusOne == 0 && next >= end;
        if (!progressed && !closeNow) revert IStorageMarket.MarketNotOver(id, end, next);
    }

    /// @notice End a live or ending data set at once, for faults (`maxFaults` reached, else `MarketNotEnoughFaults`)
    ///         or a failed retrieval: nothing more is paid from the provider's current epoch N on (`endPeriod = N`),
    ///         its bytes leave the challengeable set from N + 1; the market closes it in the same call.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param reason `Faulty` or `RetrievalFailed`.
    /// @param currentPeriod The current period.
    /// @param provingPeriod The market's proving period (seconds).
    function endNow(
        MarketLayout.Layout storage s,
        uint64 id,
        IStorageMarket.EndReason reason,
        uint256 currentPeriod,
        uint256 provingPeriod
    ) public {
        MarketLayout.DataSet storage d = s.sets[id];
        IStorageMarket.Status status = d.status;
        if (status != IStorageMarket.Status.Live && status != IStorageMarket.Status.Ending)
            revert IStorageMarket.MarketWrongStatus(id, status);
        address provider = d.provider;
        _recordMissed(s, provider, currentPeriod);
        if (reason == IStorageMarket.EndReason.Faulty) {
            DataSetAccrual.accrueInline(s, id, provingPeriod);
            uint256 faults = uint256(d.missedFaults) + d.declaredFaults;
            uint8 maxFaults = s.params.maxFaults;
            if (faults < maxFaults) revert IStorageMarket.MarketNotEnoughFaults(id, faults, maxFaults);
        }
        uint32 next = s.proofStates[provider].nextPeriod;
        d.endPeriod = next;
        d.status = IStorageMarket.Status.Ending;
        d.endReason = reason;
        emit IStorageMarket.DataSetTerminated(id, msg.sender, reason, next);
        if (d.classPlusOne != 0) _removeNext(s, id, provider, currentPeriod, provingPeriod);
    }

    /// @dev Take the data set's bytes out of its provider's classes from the next epoch (accounted first), as a
    ///      `DataSetUpdated` to span 0 at its current version.
    function _removeNext(
        MarketLayout.Layout storage s,
        uint64 id,
        address provider,
        uint256 currentPeriod,
        uint256 provingPeriod
    ) private {
        (uint32 epoch, uint32 tag) = ProviderEpochs.openEpochInline(s, provider, currentPeriod);
        DataSetAccrual.accrueInline(s, id, provingPeriod);
        ProviderEpochs.writeInline(s, id, bytes32(0), 0, tag);
        emit IStorageMarket.DataSetUpdated(
            id,
            s.sets[id].version,
            bytes32(0),
            0,
            epoch == tag ? epoch + 1 : epoch
        );
    }

    function _recordMissed(MarketLayout.Layout storage s, address provider, uint256 currentPeriod) private {
        (uint32 from, uint32 count) = ProviderEpochs.recordMissedInline(s, provider, currentPeriod);
        if (count != 0)
            emit IStorageMarket.MissedProofsReported(
                provider,
                from,
                count,
                address(0),
                0,
                s.proofStates[provider].seedBlock
            );
    }

    /// @notice The record of data set `id` as the market's `dataSet` view returns it.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @return v The record.
    function viewOf(
        MarketLayout.Layout storage s,
        uint64 id
    ) public view returns (IStorageMarket.DataSetView memory v) {
        MarketLayout.DataSet storage d = s.sets[id];
        uint32 next = s.proofStates[d.provider].nextPeriod;
        v.client = d.client;
        v.provider = d.provider;
        v.pricePerTiBMonth = d.pricePerTiBMonth;
        v.collateralPerTiB = d.collateralPerTiB;
        v.noticePeriods = d.noticePeriods;
        v.endPeriod = d.endPeriod;
        v.status = d.status;
        v.version = d.version;
        v.root = s.roots[id][d.rootParity];
        v.span = d.spanCur;
        v.frozenSpan = d.writtenAt == next ? d.spanPrev : d.spanCur;
        v.escrow = d.escrow;
        v.paid = d.paid;
        v.leafSeconds = d.leafSeconds;
        v.paidThrough = d.paidThrough;
        v.missedFaults = d.missedFaults;
        v.declaredFaults = d.declaredFaults;
    }
}
