// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { MarketGovernance } from "../governance/MarketGovernance.sol";
import { ICreditLedger } from "../interfaces/ICreditLedger.sol";
import { IComputeMarket } from "../interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { CreditLedger } from "../payments/CreditLedger.sol";
import { MarketLedger } from "../payments/MarketLedger.sol";
import { ComputeParams } from "./libraries/ComputeParams.sol";
import { LeaseMath } from "./libraries/LeaseMath.sol";

/// @title ComputeMarketBase
/// @notice State shared by the order book and the lease half of the compute market: orders, bids, leases,
///         parameters. Money is the market's `MarketLedger`; roles, pause and treasury are `MarketGovernance`.
/// @dev Lease and parameter fields are grouped into storage words by the calls that read and write them: a
///      missed-heartbeat report touches as few words as it can (docs/SPEC.md §15.5).
abstract contract ComputeMarketBase is IComputeMarket, MarketLedger, MarketGovernance {
    uint256 internal immutable _maxMissedHeartbeatPenalty;
    uint256 internal immutable _maxCloseBounty;

    // `Parameters`, stored in two words by who reads them; the first also holds the treasury's credit.
    ComputeParams.PenaltyTerms internal _penaltyTerms;
    ComputeParams.LeaseTerms internal _leaseTerms;
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

    /// @inheritdoc ICreditLedger
    function balanceOf(address account) public view override(ICreditLedger, CreditLedger) returns (uint256) {
        uint256 balance = super.balanceOf(account);
        return account == _treasury ? balance + _penaltyTerms.treasuryCredit : balance;
    }

    /// @dev Take `amount` from `payer`'s ledger balance if it covers it, else pull it exactly from its allowance.
    function _fund(address payer, uint256 amount) internal {
        if (!_charge(payer, amount)) revert ComputeUnfunded(payer, amount);
    }

    /// @dev Credit the treasury its share of a penalty: added to the credit in the penalty terms' word (which every
    ///      penalty reads), or to its ledger balance when the credit would not fit its 112 bits. Its `balanceOf`
    ///      counts the credit, which moves into the balance when the treasury spends it or is replaced.
    function _creditTreasury(uint256 amount) internal {
        uint256 credit = _penaltyTerms.treasuryCredit + amount;
        // Both terms are below 2^128 (a penalty is at most a lease's 96-bit collateral), so the sum cannot wrap.
        if (credit <= type(uint112).max) _penaltyTerms.treasuryCredit = uint112(credit);
        else _credit(_treasury, amount);
    }

    function _collectCredit(address account) internal override returns (uint256 collected) {
        if (account == _treasury) collected = _takeTreasuryCredit();
    }

    function _beforeTreasuryChange() internal override {
        uint256 credit = _takeTreasuryCredit();
        if (credit != 0) _credit(_treasury, credit);
    }

    function _takeTreasuryCredit() private returns (uint256 credit) {
        credit = _penaltyTerms.treasuryCredit;
        if (credit != 0) _penaltyTerms.treasuryCredit = 0;
    }

    // ------------------------------------------------------------------ governance

    function _setParameters(Parameters memory params) internal {
        ComputeParams.store(_penaltyTerms, _leaseTerms, params, _maxMissedHeartbeatPenalty, _maxCloseBounty);
        emit ParametersSet(params);
    }
}
