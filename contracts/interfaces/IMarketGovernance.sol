// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IGoverned } from "./IGoverned.sol";

/// @title IMarketGovernance
/// @notice Governance shared by the storage and the compute market: the roles and pause of `IGoverned`, plus the
///         treasury that receives the treasury share of every slash. Each market keeps its own bounded
///         `Parameters`, `setParameters` and `parameters()`.
interface IMarketGovernance is IGoverned {
    /// @notice Emitted when the treasury changes.
    /// @param treasury The new treasury.
    event TreasurySet(address treasury);

    /// @notice The treasury is the zero address.
    error GovernanceZeroTreasury();

    /// @notice Set the treasury. Admin only.
    /// @param treasury The treasury (non-zero).
    function setTreasury(address treasury) external;

    /// @notice The treasury.
    /// @return The treasury address.
    function treasury() external view returns (address);
}
