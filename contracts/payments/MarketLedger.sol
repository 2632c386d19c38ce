// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { CreditLedger } from "./CreditLedger.sol";

/// @title MarketLedger
/// @notice The credit ledger of a market that slashes provider stake: slashed collateral is credited here at
///         once but held by the provider registry until a withdrawal needs it, and providers are paid at their
///         registry payee. Shared by the storage and the compute market.
abstract contract MarketLedger is CreditLedger {
    IProviderRegistry internal immutable _registry;

    /// @param registry_ Provider registry (same token; each market checks it with its own error).
    /// @param token_ Payment token.
    constructor(IProviderRegistry registry_, IERC20 token_) CreditLedger(token_) {
        _registry = registry_;
    }

    /// @dev Collect the slashed stake the registry owes this market.
    function _collectPending() internal override {
        _registry.collectSlashed();
    }

    /// @dev A provider's earnings go to its registry payee; anyone else is paid directly.
    function _payoutAddress(address account) internal view override returns (address) {
        return _registry.payeeOf(account);
    }
}
