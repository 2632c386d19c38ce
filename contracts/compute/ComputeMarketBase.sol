// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { MarketGovernance } from "../governance/MarketGovernance.sol";
import { IComputeMarket } from "../interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { MarketLedger } from "../payments/MarketLedger.sol";
import { ComputeParams } from "./libraries/ComputeParams.sol";
import { LeaseMath } from "./libraries/LeaseMath.sol";

/// @title ComputeMarketBase
/// @notice State shared by the order book and the lease half of the compute market: orders, bids, leases,
///         parameters. Money is the market's `MarketLedger`; roles, pause and treasury are `MarketGovernance`.
abstract contract ComputeMarketBase is IComputeMarket, MarketLedger, MarketGovernance {
    uint256 internal immutable _maxMissedHeartbeatPenalty;
    uint256 internal immutable _maxCloseBounty;

    Parameters internal _params;
    uint64 internal _lastOrderId;

    mapping(uint64 orderId => Order) internal _orders;
    mapping(uint64 orderId => mapping(address provider => Bid)) internal _bids;
    mapping(uint64 leaseId => Lease) internal _leases;
    // The lease's collateral at acceptance: the base of the reserved no-notice penalty (docs/SPEC.md §15.5).
    mapping(uint64 leaseId => uint256) internal _acceptedCollateral;

    /// @param registry_ Provider registry (same token).
    /// @param token_ Payment token.
    /// @param maxMissedHeartbeatPenalty_ Deployment cap on the missed-heartbeat penalty parameter.
    /// @param maxCloseBounty_ Deployment cap on the close bounty parameter.
    constructor(
        IProviderRegistry registry_,
        IERC20 token_,
        uint256 maxMissedHeartbeatPenalty_,
        uint256 maxCloseBounty_
    ) MarketLedger(registry_, token_) {
        if (registry_.token() != address(token_))
            revert ComputeTokenMismatch(address(token_), registry_.token());
        _maxMissedHeartbeatPenalty = maxMissedHeartbeatPenalty_;
        _maxCloseBounty = maxCloseBounty_;
    }

    // ------------------------------------------------------------------ leases

    /// @dev The stream view of a lease record.
    function _stream(Lease memory lease) internal pure returns (LeaseMath.Stream memory) {
        return
            LeaseMath.Stream({
                start: lease.startedAt,
                endsAt: lease.endsAt,
                period: lease.heartbeatPeriod,
                nextPeriod: lease.nextPeriod,
                paidSeconds: lease.paidSeconds,
                missedSeconds: lease.missedSeconds,
                pricePerSecond: lease.pricePerSecond,
                escrow: lease.escrow
            });
    }

    // ------------------------------------------------------------------ money

    /// @dev Take `amount` from `payer`'s ledger balance if it covers it, else pull it exactly from its allowance.
    function _fund(address payer, uint256 amount) internal {
        if (!_charge(payer, amount)) revert ComputeUnfunded(payer, amount);
    }

    // ------------------------------------------------------------------ governance

    function _setParameters(Parameters memory params) internal {
        ComputeParams.validate(params, _maxMissedHeartbeatPenalty, _maxCloseBounty);
        _params = params;
        emit ParametersSet(params);
    }
}
