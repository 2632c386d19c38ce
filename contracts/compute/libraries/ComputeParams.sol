// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IComputeMarket } from "../../interfaces/IComputeMarket.sol";
import { BasisPoints } from "../../payments/libraries/BasisPoints.sol";

/// @title ComputeParams
/// @notice Hard bounds of every compute-market parameter (governance can move a parameter only inside them), and
///         how the parameters are stored: two words grouped by who reads them.
/// @dev Deployed and linked (public functions) to keep the market well under the 24 KiB code-size limit.
library ComputeParams {
    /// @notice Shortest heartbeat period (seconds).
    uint256 internal constant MIN_HEARTBEAT_PERIOD = 60;
    /// @notice Longest heartbeat period (seconds); also keeps it within the lease's 24-bit field.
    uint256 internal constant MAX_HEARTBEAT_PERIOD = 1 days;
    /// @notice Highest missed-heartbeat limit.
    uint256 internal constant MAX_MISSED_HEARTBEATS = 100;
    /// @notice Highest treasury share (bps of a penalty).
    uint256 internal constant MAX_TREASURY_BPS = 5_000;
    /// @notice Highest reporter share (bps of a missed-heartbeat penalty): below 100%, so self-reporting loses.
    uint256 internal constant MAX_REPORTER_SHARE_BPS = 5_000;
    /// @notice Shortest accepted limit on notice windows (seconds).
    uint256 internal constant MIN_MAX_NOTICE_WINDOW = 60;
    /// @notice Longest notice window (seconds); also keeps it within the lease's 24-bit field.
    uint256 internal constant MAX_NOTICE_WINDOW = 90 days;
    /// @notice Shortest accepted limit on order lifetimes (seconds).
    uint256 internal constant MIN_ORDER_LIFETIME = 5 minutes;
    /// @notice Longest order lifetime (seconds).
    uint256 internal constant MAX_ORDER_LIFETIME = 90 days;
    /// @notice Longest fixed lease duration (seconds).
    uint256 internal constant MAX_LEASE_DURATION = 10 * 365 days;

    /// @notice The penalty terms of `Parameters` (one word): all the parameters a missed-heartbeat report reads, and
    ///         the treasury's credit not yet moved into its ledger balance. Crediting the treasury its share of a
    ///         penalty writes this word, which the penalty read anyway, instead of a balance word of its own.
    struct PenaltyTerms {
        uint96 missedHeartbeatPenalty;
        uint16 reporterShareBps;
        uint16 treasuryShareBps;
        uint16 noNoticePenaltyBps;
        uint112 treasuryCredit;
    }

    /// @notice The order and lease terms of `Parameters` (one word). Durations narrower than in `Parameters` fit by
    ///         their bounds (at most 1 day, 90 days and 10 years).
    struct LeaseTerms {
        uint24 heartbeatPeriod;
        uint8 maxMissedHeartbeats;
        uint16 missedHeartbeatsPenaltyBps;
        uint24 minNoticeWindow;
        uint24 maxNoticeWindow;
        uint24 maxOrderLifetime;
        uint32 maxLeaseDuration;
        uint96 closeBounty;
    }

    /// @notice Revert unless every field of `p` is within its bounds.
    /// @param p The parameters.
    /// @param maxMissedHeartbeatPenalty The deployment's cap on the missed-heartbeat penalty.
    /// @param maxCloseBounty The deployment's cap on the close bounty buffer.
    function validate(
        IComputeMarket.Parameters memory p,
        uint256 maxMissedHeartbeatPenalty,
        uint256 maxCloseBounty
    ) public pure {
        _check("heartbeatPeriod", p.heartbeatPeriod, MIN_HEARTBEAT_PERIOD, MAX_HEARTBEAT_PERIOD);
        _check("maxMissedHeartbeats", p.maxMissedHeartbeats, 1, MAX_MISSED_HEARTBEATS);
        _check("missedHeartbeatsPenaltyBps", p.missedHeartbeatsPenaltyBps, 0, BasisPoints.BPS);
        _check("noNoticePenaltyBps", p.noNoticePenaltyBps, 0, BasisPoints.BPS);
        _check("treasuryShareBps", p.treasuryShareBps, 0, MAX_TREASURY_BPS);
        _check("maxNoticeWindow", p.maxNoticeWindow, MIN_MAX_NOTICE_WINDOW, MAX_NOTICE_WINDOW);
        _check("minNoticeWindow", p.minNoticeWindow, 0, p.maxNoticeWindow);
        _check("maxOrderLifetime", p.maxOrderLifetime, MIN_ORDER_LIFETIME, MAX_ORDER_LIFETIME);
        _check("maxLeaseDuration", p.maxLeaseDuration, p.heartbeatPeriod, MAX_LEASE_DURATION);
        _check("missedHeartbeatPenalty", p.missedHeartbeatPenalty, 0, maxMissedHeartbeatPenalty);
        _check("reporterShareBps", p.reporterShareBps, 0, MAX_REPORTER_SHARE_BPS);
        // A zero buffer would leave nobody paid to close an overdrawn lease.
        _check("closeBounty", p.closeBounty, 1, maxCloseBounty);
    }

    /// @notice Validate `params` (`validate`) and store them, keeping the treasury's credit.
    /// @param penalty The market's penalty terms.
    /// @param lease The market's order and lease terms.
    /// @param params The parameters.
    /// @param maxMissedHeartbeatPenalty The deployment's cap on the missed-heartbeat penalty.
    /// @param maxCloseBounty The deployment's cap on the close bounty buffer.
    function store(
        PenaltyTerms storage penalty,
        LeaseTerms storage lease,
        IComputeMarket.Parameters memory params,
        uint256 maxMissedHeartbeatPenalty,
        uint256 maxCloseBounty
    ) public {
        validate(params, maxMissedHeartbeatPenalty, maxCloseBounty);
        penalty.missedHeartbeatPenalty = params.missedHeartbeatPenalty;
        penalty.reporterShareBps = params.reporterShareBps;
        penalty.treasuryShareBps = params.treasuryShareBps;
        penalty.noNoticePenaltyBps = params.noNoticePenaltyBps;
        // Each narrowed duration is within its bound, checked above.
        lease.heartbeatPeriod = uint24(params.heartbeatPeriod);
        lease.maxMissedHeartbeats = params.maxMissedHeartbeats;
        lease.missedHeartbeatsPenaltyBps = params.missedHeartbeatsPenaltyBps;
        lease.minNoticeWindow = uint24(params.minNoticeWindow);
        lease.maxNoticeWindow = uint24(params.maxNoticeWindow);
        lease.maxOrderLifetime = uint24(params.maxOrderLifetime);
        lease.maxLeaseDuration = params.maxLeaseDuration;
        lease.closeBounty = params.closeBounty;
    }

    /// @notice The stored parameters as `Parameters`.
    /// @param penalty The market's penalty terms.
    /// @param lease The market's order and lease terms.
    /// @return p The parameters.
    function load(
        PenaltyTerms storage penalty,
        LeaseTerms storage lease
    ) public view returns (IComputeMarket.Parameters memory p) {
        p.heartbeatPeriod = lease.heartbeatPeriod;
        p.maxMissedHeartbeats = lease.maxMissedHeartbeats;
        p.missedHeartbeatsPenaltyBps = lease.missedHeartbeatsPenaltyBps;
        p.noNoticePenaltyBps = penalty.noNoticePenaltyBps;
        p.treasuryShareBps = penalty.treasuryShareBps;
        p.minNoticeWindow = lease.minNoticeWindow;
        p.maxNoticeWindow = lease.maxNoticeWindow;
        p.maxOrderLifetime = lease.maxOrderLifetime;
        p.maxLeaseDuration = lease.maxLeaseDuration;
        p.missedHeartbeatPenalty = penalty.missedHeartbeatPenalty;
        p.closeBounty = lease.closeBounty;
        p.reporterShareBps = penalty.reporterShareBps;
    }

    function _check(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max)
            revert IComputeMarket.ComputeParameterOutOfBounds(name, value, min, max);
    }
}
