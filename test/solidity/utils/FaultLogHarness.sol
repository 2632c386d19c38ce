// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { FaultLog } from "../../../contracts/storage/libraries/FaultLog.sol";

/// @notice One FaultLog in storage with its internal functions exposed.
contract FaultLogHarness {
    using FaultLog for FaultLog.Log;

    FaultLog.Log private _log;
    uint256 private _count;

    /// @notice FaultLog.record.
    function record(uint32 start, uint32 length) external {
        _count = _log.record(_count, start, length);
    }

    /// @notice FaultLog.missedThrough.
    function missedThrough(uint256 period) external view returns (uint256) {
        return _log.missedThrough(_count, period);
    }

    /// @notice FaultLog.missedBetween.
    function missedBetween(uint256 from, uint256 to) external view returns (uint256) {
        return _log.missedBetween(_count, from, to);
    }

    /// @notice FaultLog.missedThroughHinted.
    function missedThroughHinted(uint256 period, uint256 hint) external view returns (uint256) {
        return _log.missedThroughHinted(_count, period, hint);
    }

    /// @notice FaultLog.missedBetweenHinted.
    function missedBetweenHinted(uint256 from, uint256 to, uint256 fromHint) external view returns (uint256) {
        return _log.missedBetweenHinted(_count, from, to, fromHint);
    }

    /// @notice Number of stored runs.
    function runCount() external view returns (uint256) {
        return _count;
    }

    /// @notice Stored run `i`.
    function runAt(uint256 i) external view returns (FaultLog.Run memory) {
        return _log.runAt(i);
    }
}
