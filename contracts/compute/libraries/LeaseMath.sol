// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { BasisPoints } from "../../payments/libraries/BasisPoints.sol";
import { SlashSplit } from "../../payments/libraries/SlashSplit.sol";

/// @title LeaseMath
/// @notice Pure formulas of a lease's stream (see docs/SPEC.md, "Compute leases"): which time is payable, what a
///         settlement pays, which periods a missed-heartbeat report covers, and how a penalty splits.
/// @dev Heartbeat period `k` of a lease is `[start + k*P, start + (k+1)*P)`. Periods below `nextPeriod` are
///      resolved (heartbeated or reported missed). Payable time is the resolved time up to now and the lease's
///      end, minus the missed seconds; it is paid in whole seconds as far as the escrow covers it.
library LeaseMath {
    /// @notice A lease's stream state, read from storage.
    /// @param start Start timestamp.
    /// @param endsAt End timestamp (0 = open-ended).
    /// @param period Heartbeat period in seconds (non-zero).
    /// @param nextPeriod First unresolved period.
    /// @param paidSeconds Seconds paid so far.
    /// @param missedSeconds Seconds of reported missed periods.
    /// @param pricePerSecond Price per second (non-zero).
    /// @param escrow Unpaid escrow.
    struct Stream {
        uint256 start;
        uint256 endsAt;
        uint256 period;
        uint256 nextPeriod;
        uint256 paidSeconds;
        uint256 missedSeconds;
        uint256 pricePerSecond;
        uint256 escrow;
    }

    /// @notice The heartbeat period containing `nowTs`.
    /// @param start Lease start (<= nowTs).
    /// @param period Heartbeat period (non-zero).
    /// @param nowTs Current timestamp.
    /// @return The period index.
    function currentPeriod(uint256 start, uint256 period, uint256 nowTs) internal pure returns (uint256) {
        return (nowTs - start) / period;
    }

    /// @notice End of the time that may be paid: the earliest of now, the lease's end and the resolved horizon.
    /// @param s The stream.
    /// @param nowTs Current timestamp.
    /// @return horizon The timestamp.
    function payableHorizon(Stream memory s, uint256 nowTs) internal pure returns (uint256 horizon) {
        horizon = s.start + s.nextPeriod * s.period;
        if (nowTs < horizon) horizon = nowTs;
        if (s.endsAt != 0 && s.endsAt < horizon) horizon = s.endsAt;
    }

    /// @notice Payable seconds so far: elapsed time up to the payable horizon minus the missed seconds.
    /// @param s The stream.
    /// @param nowTs Current timestamp.
    /// @return live `max(0, max(0, horizon - start) - missedSeconds)`.
    function liveSeconds(Stream memory s, uint256 nowTs) internal pure returns (uint256 live) {
        uint256 horizon = payableHorizon(s, nowTs);
        if (horizon <= s.start) return 0;
        // horizon > start is checked above; the subtraction of missed seconds is guarded.
        unchecked {
            uint256 elapsed = horizon - s.start;
            live = elapsed > s.missedSeconds ? elapsed - s.missedSeconds : 0;
        }
    }

    /// @notice What settling now pays: the newly payable seconds, as many as the escrow covers.
    /// @param s The stream.
    /// @param nowTs Current timestamp.
    /// @return paidSeconds Seconds to add to the paid total.
    /// @return amount Tokens to pay (`paidSeconds * pricePerSecond`, never more than the escrow).
    /// @return overdrawn True when the escrow cannot pay every newly payable second.
    function settlement(
        Stream memory s,
        uint256 nowTs
    ) internal pure returns (uint256 paidSeconds, uint256 amount, bool overdrawn) {
        uint256 live = liveSeconds(s, nowTs);
        if (live <= s.paidSeconds) return (0, 0, false);
        // live > paidSeconds is checked above.
        unchecked {
            paidSeconds = live - s.paidSeconds;
        }
        uint256 affordable = s.escrow / s.pricePerSecond;
        if (paidSeconds > affordable) {
            paidSeconds = affordable;
            overdrawn = true;
        }
        amount = paidSeconds * s.pricePerSecond;
    }

    /// @notice The closed, unresolved periods a missed-heartbeat report covers now, bounded by the lease's end.
    /// @param s The stream.
    /// @param nowTs Current timestamp.
    /// @return upTo First period left unresolved after the report (the new `nextPeriod`).
    /// @return count Number of periods reported (0 if none).
    /// @return missed Seconds of those periods inside the lease.
    function missedWindow(
        Stream memory s,
        uint256 nowTs
    ) internal pure returns (uint256 upTo, uint256 count, uint256 missed) {
        return missedWindow(s.start, s.endsAt, s.period, s.nextPeriod, nowTs);
    }

    /// @notice `missedWindow` of a stream from its clock alone (a report reads no more of the lease).
    /// @param start Lease start (<= nowTs).
    /// @param endsAt End timestamp (0 = open-ended).
    /// @param period Heartbeat period (non-zero).
    /// @param nextPeriod First unresolved period.
    /// @param nowTs Current timestamp.
    /// @return upTo First period left unresolved after the report (the new `nextPeriod`).
    /// @return count Number of periods reported (0 if none).
    /// @return missed Seconds of those periods inside the lease.
    function missedWindow(
        uint256 start,
        uint256 endsAt,
        uint256 period,
        uint256 nextPeriod,
        uint256 nowTs
    ) internal pure returns (uint256 upTo, uint256 count, uint256 missed) {
        upTo = currentPeriod(start, period, nowTs);
        if (endsAt != 0) {
            uint256 periodsInLease = endsAt > start ? Math.ceilDiv(endsAt - start, period) : 0;
            if (periodsInLease < upTo) upTo = periodsInLease;
        }
        if (upTo <= nextPeriod) return (nextPeriod, 0, 0);
        // upTo > nextPeriod is checked above.
        unchecked {
            count = upTo - nextPeriod;
        }
        uint256 from = start + nextPeriod * period;
        uint256 to = start + upTo * period;
        if (endsAt != 0 && endsAt < to) to = endsAt;
        // Every reported period starts before the lease's end (upTo <= periodsInLease), so from < to.
        missed = to - from;
    }

    /// @notice When the escrow stops paying, assuming every period from now on is heartbeated.
    /// @param s The stream.
    /// @return The timestamp `start + missedSeconds + paidSeconds + escrow / pricePerSecond`.
    function fundedUntil(Stream memory s) internal pure returns (uint256) {
        return s.start + s.missedSeconds + s.paidSeconds + s.escrow / s.pricePerSecond;
    }

    /// @notice What a missed-heartbeat report slashes: `owed` (count × penalty per period), capped at the
    ///         collateral above the reserved no-notice penalty.
    /// @param owed Penalty for the periods reported.
    /// @param collateral The lease's collateral left.
    /// @param reserved The reserved no-notice penalty (<= `collateral`).
    /// @return The penalty (<= `collateral - reserved`).
    function reportPenalty(
        uint256 owed,
        uint256 collateral,
        uint256 reserved
    ) internal pure returns (uint256) {
        // reserved <= collateral by construction (`_reservedPenalty` caps it).
        uint256 available = collateral - reserved;
        return owed < available ? owed : available;
    }

    /// @notice A penalty of `bps` of `collateral`, split between the treasury and the harmed tenant.
    /// @param collateral The collateral.
    /// @param bps Penalty in basis points (<= 10_000).
    /// @param treasuryBps Treasury share of the penalty in basis points (<= 10_000).
    /// @return amount The penalty (`toTreasury + toTenant`, never more than `collateral`).
    /// @return toTreasury Treasury share (rounded down).
    /// @return toTenant The rest.
    function penalty(
        uint256 collateral,
        uint256 bps,
        uint256 treasuryBps
    ) internal pure returns (uint256 amount, uint256 toTreasury, uint256 toTenant) {
        amount = BasisPoints.share(collateral, bps);
        // No reporter share: a lease penalty goes to the treasury and the harmed tenant only.
        (toTreasury, toTenant) = SlashSplit.split(amount, treasuryBps);
    }
}
