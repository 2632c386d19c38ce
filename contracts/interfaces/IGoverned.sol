// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IGoverned
/// @notice Roles and pause shared by every governed Strata contract (both markets, the retrieval challenges and
///         the provider registry). The admin role (the timelock in deployment) grants roles; the parameter role
///         changes bounded parameters; the pauser role pauses. A pause stops new business only: it never blocks
///         withdrawals, refunds, settlement, proofs, reports or closing (each contract's interface lists what
///         stops).
interface IGoverned {
    /// @notice Stop new business. Pauser role only.
    function pause() external;

    /// @notice Resume new business. Pauser role only.
    function unpause() external;
}
