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

    /// @notice End a live or ending data set at once and close it, for faults (`maxFaults` reached, else
    ///         `MarketNotEnoughFaults`; refused while a retrieval challenge of it is open) or a failed retrieval:
    ///         its provider's closed periods are resolved first, nothing is paid from the provider's current epoch N
    ///         on (`endPeriod = N`), and its bytes leave the challengeable set from N + 1 (emitted as a
    ///         `DataSetUpdated` to span 0). One library call for the whole ending.
    /// @param s The market's storage.
    /// @param id The data set (live or ending).
    /// @param reason `Faulty` or `RetrievalFailed`.
    /// @param currentPeriod The current period.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return The amounts to credit and the collateral to slash and release (as `close`).
    function endNow(
        MarketLayout.Layout storage s,
        uint64 id,
        IStorageMarket.EndReason reason,
        uint256 currentPeriod,
        uint256 provingPeriod
    ) public returns (Closing memory) {
        MarketLayout.DataSet storage d = s.sets[id];
        IStorageMarket.Status status = d.status;
        if (status != IStorageMarket.Status.Live && status != IStorageMarket.Status.Ending)
            revert IStorageMarket.MarketWrongStatus(id, status);
        address provider = d.provider;
        // A data set in a size class keeps its provider's mask non-empty (no restart, mask not read).
        bool holdsBytes = d.classPlusOne != 0;
        uint32 epoch;
        uint32 tag;
        if (holdsBytes) {
            (epoch, tag) = ProviderEpochs.openEpochInline(s, provider, currentPeriod, true);
        } else {
            ProviderEpochs.catchUpInline(s, provider, currentPeriod);
            epoch = s.proofStates[provider].nextPeriod;
        }
        if (reason == IStorageMarket.EndReason.Faulty) {
            DataSetAccrual.accrueInline(s, id, provingPeriod);
            uint256 faults = uint256(d.missedFaults) + d.declaredFaults;
            uint8 maxFaults = s.params.maxFaults;
            if (faults < maxFaults) revert IStorageMarket.MarketNotEnoughFaults(id, faults, maxFaults);
            // Terminating for faults must not end a retrieval challenge early (docs/SPEC.md §14); a view call.
            _refuseOpenChallenge(s, id);
        }
        d.endPeriod = epoch;
        d.status = IStorageMarket.Status.Ending;
        d.endReason = reason;
        emit IStorageMarket.DataSetTerminated(id, msg.sender, reason, epoch);
        DataSetAccrual.accrueInline(s, id, provingPeriod);
        if (holdsBytes) {
            ProviderEpochs.writeInline(s, id, bytes32(0), 0, tag);
            emit IStorageMarket.DataSetUpdated(
                id,
                d.version,
                bytes32(0),
                0,
                epoch == tag ? epoch + 1 : epoch
            );
        }
        return _closeAccrued(s, d);
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
    ) public returns (Closing memory) {
        // A failed retrieval is the challenge's own enforcement (already resolved): nothing to ask.
        if (s.sets[id].endReason != IStorageMarket.EndReason.RetrievalFailed) _refuseOpenChallenge(s, id);
        DataSetAccrual.accrueInline(s, id, provingPeriod);
        return _closeAccrued(s, s.sets[id]);
    }

    /// @dev Revert with `MarketRetrievalChallengeOpen` while the retrieval-challenge contract (the market's
    ///      RETRIEVAL_ROLE holder) has a challenge of data set `id` open.
    function _refuseOpenChallenge(MarketLayout.Layout storage s, uint64 id) private view {
        address retrieval = s.retrieval;
        if (retrieval == address(0)) return;
        // A role holder that does not answer (not a challenge contract) holds nothing: funds are never stuck.
        (bool ok, bytes memory ret) = retrieval.staticcall(
            abi.encodeCall(IRetrievalChallenges.openChallengeOf, (id))
        );
        if (ok && ret.length == 32) {
            uint256 open = abi.decode(ret, (uint256));
            if (open != 0) revert IStorageMarket.MarketRetrievalChallengeOpen(id, open);
        }
    }

    /// @dev `close` of a data set already accounted to its end.
    function _closeAccrued(
        MarketLayout.Layout storage s,
        MarketLayout.DataSet storage d
    ) private returns (Closing memory c) {
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
        ProviderEpochs.catchUpInline(s, provider, currentPeriod);
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

    /// @dev Take the data set's bytes out of its provider's classes from the next epoch (accounted first), as a
    ///      `DataSetUpdated` to span 0 at its current version.
    function _removeNext(
        MarketLayout.Layout storage s,
        uint64 id,
        address provider,
        uint256 currentPeriod,
        uint256 provingPeriod
    ) private {
        // The data set is in a size class: the provider holds bytes (no restart, mask not read).
        (uint32 epoch, uint32 tag) = ProviderEpochs.openEpochInline(s, provider, currentPeriod, true);
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
