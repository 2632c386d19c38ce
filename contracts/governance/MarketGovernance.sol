// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IMarketGovernance } from "../interfaces/IMarketGovernance.sol";
import { Governed } from "./Governed.sol";

/// @title MarketGovernance
/// @notice Governance shared by the storage and the compute market: roles and pause (`Governed`) and the
///         treasury. Each market validates and stores its own `Parameters` with its own bounds library.
abstract contract MarketGovernance is IMarketGovernance, Governed {
    address internal _treasury;

    /// @param admin Holder of the admin, parameter and pauser roles (the timelock in deployment).
    /// @param treasury_ Receiver of the treasury share of slashes.
    constructor(address admin, address treasury_) Governed(admin) {
        _setTreasury(treasury_);
    }

    /// @inheritdoc IMarketGovernance
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _beforeTreasuryChange();
        _setTreasury(treasury_);
    }

    /// @inheritdoc IMarketGovernance
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @dev Settle whatever the market still owes the current treasury before another one takes its place.
    function _beforeTreasuryChange() internal virtual {} // solhint-disable-line no-empty-blocks

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert GovernanceZeroTreasury();
        _treasury = treasury_;
        emit TreasurySet(treasury_);
    }
}
