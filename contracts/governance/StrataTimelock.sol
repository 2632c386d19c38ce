// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TimelockController } from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title StrataTimelock
/// @notice The OpenZeppelin timelock that holds every admin, parameter and pauser role of a deployment, so
///         that each governance action is public for `minDelay` seconds before it can run.
contract StrataTimelock is TimelockController {
    /// @param minDelay Seconds between scheduling and executing an operation.
    /// @param proposers Accounts that may schedule (and cancel) operations.
    /// @param executors Accounts that may execute ready operations (address(0) = anyone).
    /// @param admin Optional extra admin for initial setup (address(0) = the timelock administers itself).
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}
}
