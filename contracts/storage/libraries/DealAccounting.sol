// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { BasisPoints } from "../../payments/libraries/BasisPoints.sol";
import { SlashSplit } from "../../payments/libraries/SlashSplit.sol";
import { DealSlot } from "./DealSlot.sol";
import { FaultLog } from "./FaultLog.sol";
import { PaymentMath } from "./PaymentMath.sol";

/// @title DealAccounting
/// @notice What a deal has earned, what it owes in penalties, and how its escrow splits when it ends.
/// @dev Deployed and linked (public functions) so the market stays under the 24 KiB limit.
library DealAccounting {
    using FaultLog for FaultLog.Log;

    /// @notice The proving clock.
    /// @param genesis Start of period 0.
    /// @param provingPeriod Period length in seconds.
    struct Clock {
        uint256 genesis;
        uint256 provingPeriod;
    }

    /// @notice What a deal has earned so far.
    /// @param net Payable seconds (elapsed within the proven horizon, net of faulted time).
    /// @param missed Missed periods charged to the deal.
    /// @param declared Declared faults of the deal.
    struct Accrual {
        uint256 net;
        uint256 missed;
        uint256 declared;
    }

    /// @notice Money owed when a deal ends.
    /// @param paidToProvider Final payment to the provider.
    /// @param refund Unstreamed escrow back to the client.
    /// @param penalty Collateral slashed (`toHarmed + toReporter + toTreasury`).
    /// @param toHarmed Share of the penalty paid to the client.
    /// @param toReporter Share of the penalty paid to the reporter (fault or retrieval-failure bounty).
    /// @param toTreasury Share of the penalty paid to the treasury.
    struct Closing {
        uint256 paidToProvider;
        uint256 refund;
        uint256 penalty;
        uint256 toHarmed;
        uint256 toReporter;
        uint256 toTreasury;
    }

    /// @notice Accrual of `d` given its provider's first unresolved period.
    /// @dev Payable time is bounded by the provider's resolved horizon: time in a period that is neither
    ///      proven nor reported is not paid yet, so a later missed-proof report never claws anything back.
    /// @param log The provider's fault log.
    /// @param clock The proving clock.
    /// @param d The deal.
    /// @param word The deal's stored word.
    /// @param nextPeriod The provider's first unresolved period.
    /// @param startHint Number of fault runs starting before the deal (`type(uint256).max` if unknown).
    /// @return a The accrual.
    function accrue(
        FaultLog.Log storage log,
        Clock memory clock,
        IStorageMarket.Deal calldata d,
        uint256 word,
        uint32 nextPeriod,
        uint256 startHint
    ) public view returns (Accrual memory a) {
        uint256 startTs = clock.genesis + uint256(d.startPeriod) * clock.provingPeriod;
        uint256 horizon = clock.genesis + uint256(d.endPeriod) * clock.provingPeriod;
        uint256 proven = clock.genesis + uint256(nextPeriod) * clock.provingPeriod;
        if (proven < horizon) horizon = proven;
        if (block.timestamp < horizon) horizon = block.timestamp;
        uint256 lastCounted = d.endPeriod < nextPeriod ? d.endPeriod : nextPeriod;
        a.missed = log.missedBetweenHinted(d.startPeriod, lastCounted, startHint);
        DealSlot.State memory s = DealSlot.unpack(word);
        a.declared = s.declaredFaults;
        // The last declared fault is charged only once its period is resolved and inside the deal: charging
        // an unresolved one early would take back time that may already be paid, and a period before the
        // deal's start or past its end is not the deal's time. (Only the last declaration can be outside:
        // declarations follow the provider's cursor, one period at a time.)
        if (s.lastDeclaredPeriodPlusOne != 0) {
            uint256 last = s.lastDeclaredPeriodPlusOne - 1;
            if (last >= lastCounted || last < d.startPeriod) --a.declared;
        }
        a.net = PaymentMath.netSeconds(startTs, horizon, (a.missed + a.declared) * clock.provingPeriod);
    }

    /// @notice What ending `d` for `reason` pays and slashes.
    /// @param log The provider's fault log.
    /// @param p Market parameters.
    /// @param clock The proving clock.
    /// @param d The deal.
    /// @param word The deal's stored word.
    /// @param nextPeriod The provider's first unresolved period.
    /// @param reason Why the deal ends.
    /// @return c The amounts.
    function closing(
        FaultLog.Log storage log,
        IStorageMarket.Parameters storage p,
        Clock memory clock,
        IStorageMarket.Deal calldata d,
        uint256 word,
        uint32 nextPeriod,
        IStorageMarket.EndReason reason
    ) public view returns (Closing memory c) {
        Accrual memory a = accrue(log, clock, d, word, nextPeriod, type(uint256).max);
        uint256 paid = DealSlot.unpack(word).paidSeconds;
        c.paidToProvider = PaymentMath.due(d.pricePerSecond, a.net, paid);
        uint256 escrow =
            uint256(d.pricePerSecond) * (uint256(d.endPeriod - d.startPeriod) * clock.provingPeriod);
        // Seconds already paid stay paid even if later faults lower `net` below them (a period both declared
        // and missed); both are <= the deal length, so the refund never exceeds the escrow.
        c.refund = escrow - uint256(d.pricePerSecond) * (a.net > paid ? a.net : paid);
        uint256 bountyBps;
        if (
            reason == IStorageMarket.EndReason.TooManyFaults ||
            reason == IStorageMarket.EndReason.RetrievalFailed
        ) {
            // A deal ended for faults or for an unanswered retrieval challenge forfeits its whole collateral,
            // with a bounty to whoever reported it.
            c.penalty = d.collateral;
            bountyBps = p.faultTerminationBountyBps;
        } else {
            c.penalty = PaymentMath.faultPenalty(
                d.collateral,
                a.missed,
                a.declared,
                p.missedFaultPenaltyBps,
                p.declaredFaultPenaltyBps
            );
            if (reason == IStorageMarket.EndReason.ProviderTerminated) {
                // The BasisPoints formula; collateral < 2^128 and the fee <= 10_000 bps, so the product cannot overflow.
                c.penalty += (uint256(d.collateral) * p.providerTerminationFeeBps) / BasisPoints.BPS;
                if (c.penalty > d.collateral) c.penalty = d.collateral;
            }
        }
        if (c.penalty != 0) {
            (c.toTreasury, c.toReporter, c.toHarmed) = SlashSplit.split(
                c.penalty,
                p.treasuryShareBps,
                bountyBps
            );
        }
    }
}
