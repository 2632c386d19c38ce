// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { AccessControl } from "@openzeppelin/contracts/access/AccessControl.sol";
import { Pausable } from "@openzeppelin/contracts/utils/Pausable.sol";
import { IGoverned } from "../interfaces/IGoverned.sol";

/// @title Governed
/// @notice The roles and pause of every governed Strata contract, written once. Contracts mark new business
///         `whenNotPaused` and nothing else: withdrawals, refunds and settlement must never depend on the pause.
abstract contract Governed is IGoverned, AccessControl, Pausable {
    /// @notice Role allowed to change bounded parameters (held by the timelock).
    bytes32 public constant PARAMETER_ROLE = keccak256("PARAMETER_ROLE");
    /// @notice Role allowed to pause and unpause new business.
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @param admin Holder of the admin, parameter and pauser roles (the timelock in deployment).
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PARAMETER_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /// @inheritdoc IGoverned
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IGoverned
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }
}
