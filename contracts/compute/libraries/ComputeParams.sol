// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IComputeMarket } from "../../interfaces/IComputeMarket.sol";
import { BasisPoints } from "../../payments/libraries/BasisPoints.sol";

/// @title ComputeParams
/// @notice Hard bounds of every compute-market parameter. Governance can move a parameter only inside them.
/// @dev Deployed and linked (public function) to keep the market well under the 24 KiB code-size limit.
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

    function _check(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max)
            revert IComputeMarket.ComputeParameterOutOfBounds(name, value, min, max);
    }
}
