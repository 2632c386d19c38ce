// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { IComputeMarket } from "../interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { MarketGovernance } from "../governance/MarketGovernance.sol";
import { ComputeMarketBase } from "./ComputeMarketBase.sol";
import { ComputeOrderBook } from "./ComputeOrderBook.sol";
import { BasisPoints } from "../payments/libraries/BasisPoints.sol";
import { SlashSplit } from "../payments/libraries/SlashSplit.sol";
import { ComputeParams } from "./libraries/ComputeParams.sol";
import { LeaseMath } from "./libraries/LeaseMath.sol";

/// @title ComputeMarket
/// @notice Compute leases: streaming escrow, heartbeats, missed-heartbeat reports, notice and closing, plus
///         parameters and views. Orders and bids live in `ComputeOrderBook`; money enters and leaves only
///         through `CreditLedger`, collateral only through the provider registry, and roles, pause and treasury
///         are `MarketGovernance`.
contract ComputeMarket is ComputeOrderBook {
    /// @dev Money moved when a lease closes.
    struct Closing {
        uint256 paidToProvider;
        uint256 paidSeconds;
        uint256 refundToTenant;
        uint256 bountyToCloser;
        uint256 penalty;
        uint256 toTreasury;
        uint256 toTenant;
        uint256 released;
    }

    /// @param registry_ Provider registry; this market needs its MARKET_ROLE.
    /// @param token_ Payment token (the registry's token).
    /// @param admin Holder of the admin, parameter and pauser roles (the timelock in deployment).
    /// @param treasury_ Receiver of the treasury share of penalties.
    /// @param maxMissedHeartbeatPenalty_ Cap on the missed-heartbeat penalty parameter.
    /// @param maxCloseBounty_ Cap on the close bounty parameter.
    /// @param params Initial parameters.
    constructor(
        IProviderRegistry registry_,
        IERC20 token_,
        address admin,
        address treasury_,
        uint256 maxMissedHeartbeatPenalty_,
        uint256 maxCloseBounty_,
        Parameters memory params
    )
        ComputeMarketBase(registry_, token_, maxMissedHeartbeatPenalty_, maxCloseBounty_)
        MarketGovernance(admin, treasury_)
    {
        _setParameters(params);
    }

    // ------------------------------------------------------------------ streams

    /// @inheritdoc IComputeMarket
    function topUp(uint64 leaseId, uint256 amount) external nonReentrant {
        if (amount == 0) revert LedgerZeroAmount();
        Lease storage lease = _liveLease(leaseId);
        uint256 escrow = lease.escrow + amount;
        lease.escrow = SafeCast.toUint128(escrow);
        emit LeaseToppedUp(leaseId, msg.sender, amount, escrow);
        _fund(msg.sender, amount);
    }

    /// @inheritdoc IComputeMarket
    function settleLease(uint64 leaseId) external returns (uint256 amount) {
        Lease storage lease = _liveLease(leaseId);
        LeaseMath.Stream memory s = _stream(lease);
        uint256 seconds_;
        (seconds_, amount, ) = LeaseMath.settlement(s, block.timestamp);
        // Paid seconds never exceed the lease's elapsed time (40 bits) and the amount never exceeds the escrow.
        unchecked {
            s.paidSeconds += seconds_;
            s.escrow -= amount;
        }
        if (amount != 0) {
            lease.paidSeconds = uint40(s.paidSeconds);
            lease.escrow = uint128(s.escrow);
            _credit(lease.provider, amount);
        }
        emit LeaseSettled(leaseId, amount, uint64(s.paidSeconds), s.escrow);
    }

    // ------------------------------------------------------------------ heartbeats

    /// @inheritdoc IComputeMarket
    function heartbeat(uint64 leaseId) external {
        Lease storage lease = _leases[leaseId];
        address provider = lease.provider;
        if (provider != msg.sender) {
            if (provider == address(0)) revert ComputeUnknownLease(leaseId);
            revert ComputeNotProvider(leaseId, msg.sender);
        }
        uint256 current = LeaseMath.currentPeriod(lease.startedAt, lease.heartbeatPeriod, block.timestamp);
        uint32 next = lease.nextPeriod;
        if (current < next) revert ComputeHeartbeatAlreadyPosted(leaseId, current);
        if (current > next) revert ComputeUnresolvedHeartbeats(leaseId, next, current);
        // current == next < 2^32 - 1: a lease would need 8,000 years of 60-second periods to get there.
        unchecked {
            lease.nextPeriod = next + 1;
        }
        emit HeartbeatPosted(leaseId, next);
    }

    /// @inheritdoc IComputeMarket
    function reportMissedHeartbeats(uint64 leaseId) external nonReentrant returns (uint256 bounty) {
        Lease storage lease = _leases[leaseId];
        // Words 0-2 of the lease: a report never reads or changes its escrow (word 3).
        Lease memory m = _leaseWithoutFunds(lease);
        if (m.provider == address(0)) revert ComputeUnknownLease(leaseId);
        (uint256 upTo, uint256 count, uint256 missed) = LeaseMath.missedWindow(
            m.startedAt,
            m.endsAt,
            m.heartbeatPeriod,
            m.nextPeriod,
            block.timestamp
        );
        if (count == 0) {
            revert ComputeNoMissedHeartbeats(
                leaseId,
                m.nextPeriod,
                LeaseMath.currentPeriod(m.startedAt, m.heartbeatPeriod, block.timestamp)
            );
        }
        ComputeParams.PenaltyTerms memory p = _penaltyTerms;
        // The penalty never reaches the reserved no-notice penalty, so leaving afterwards still pays the tenant.
        uint256 penalty = LeaseMath.reportPenalty(
            count * p.missedHeartbeatPenalty,
            m.collateral,
            _reservedPenalty(leaseId, m.collateral, p.noNoticePenaltyBps)
        );
        (uint256 toTreasury, uint256 toReporter, uint256 toTenant) = SlashSplit.split(
            penalty,
            p.treasuryShareBps,
            p.reporterShareBps
        );
        bounty = toReporter;
        uint256 missedTotal = m.missedHeartbeats + count;

        // upTo <= current period < 2^32 (8,000 years of 60-second periods) and missed seconds <= the lease's elapsed
        // time (40 bits); the penalty is at most the collateral.
        m.nextPeriod = uint32(upTo);
        m.missedSeconds += uint40(missed);
        unchecked {
            m.collateral -= uint96(penalty);
        }
        // The tenant's compensation is credited to its ledger balance, never to the escrow: it must not cure an
        // overdraft, so a lease that cannot pay its provider stays closable for `InsufficientFunds`.
        if (toTenant != 0) _credit(m.tenant, toTenant);
        if (toReporter != 0) _credit(msg.sender, toReporter);
        if (toTreasury != 0) _creditTreasury(toTreasury);
        emit MissedHeartbeatsReported(
            leaseId,
            msg.sender,
            uint32(upTo - count),
            uint32(count),
            missed * m.pricePerSecond,
            toReporter
        );
        if (penalty != 0) emit LeaseSlashed(m.provider, leaseId, toTenant, toReporter, toTreasury);

        if (missedTotal >= m.maxMissedHeartbeats) {
            m.escrow = lease.escrow;
            m.closeBounty = lease.closeBounty;
            m.noticeWindow = lease.noticeWindow;
            _closeLease(leaseId, m, CloseReason.MissedHeartbeats, msg.sender, penalty);
        } else {
            lease.nextPeriod = m.nextPeriod;
            // missedTotal < maxMissedHeartbeats <= 100.
            _writeReportedState(lease, m.missedSeconds, m.collateral, uint16(missedTotal));
            if (penalty != 0) _registry.slash(m.provider, penalty, 0);
        }
    }

    // ------------------------------------------------------------------ ending

    /// @inheritdoc IComputeMarket
    function giveNotice(uint64 leaseId) external returns (uint64 endsAt) {
        Lease storage lease = _liveLease(leaseId);
        if (lease.provider != msg.sender) revert ComputeNotProvider(leaseId, msg.sender);
        uint256 current = lease.endsAt;
        uint256 noticeEnd = block.timestamp + lease.noticeWindow;
        if (current != 0 && noticeEnd >= current) revert ComputeAlreadyEnding(leaseId, uint64(current));
        // noticeEnd < an existing 40-bit end, or now + at most 90 days.
        endsAt = uint64(noticeEnd);
        lease.endsAt = uint40(noticeEnd);
        lease.noticeGiven = true;
        emit LeaseNoticeGiven(leaseId, endsAt);
    }

    /// @inheritdoc IComputeMarket
    function closeLease(uint64 leaseId, CloseReason reason) external nonReentrant {
        Lease memory m = _liveLease(leaseId);
        bool ended = m.endsAt != 0 && block.timestamp >= m.endsAt;
        bool allowed;
        if (reason == CloseReason.Tenant) allowed = msg.sender == m.tenant;
        else if (reason == CloseReason.ProviderWithoutNotice) allowed = msg.sender == m.provider && !ended;
        else if (reason == CloseReason.ProviderWithNotice) allowed = ended && m.noticeGiven;
        else if (reason == CloseReason.Expired) allowed = ended && !m.noticeGiven;
        else if (reason == CloseReason.InsufficientFunds) {
            (, , allowed) = LeaseMath.settlement(_stream(m), block.timestamp);
        }
        if (!allowed) revert ComputeCloseNotAllowed(leaseId, reason, msg.sender);
        _closeLease(leaseId, m, reason, msg.sender, 0);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IComputeMarket
    function setParameters(Parameters calldata params) external onlyRole(PARAMETER_ROLE) {
        _setParameters(params);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IComputeMarket
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IComputeMarket
    function parameters() external view returns (Parameters memory) {
        return ComputeParams.load(_penaltyTerms, _leaseTerms);
    }

    /// @inheritdoc IComputeMarket
    function lastOrderId() external view returns (uint64) {
        return _lastOrderId;
    }

    /// @inheritdoc IComputeMarket
    function getOrder(uint64 orderId) external view returns (Order memory) {
        return _orders[orderId];
    }

    /// @inheritdoc IComputeMarket
    function getBid(uint64 orderId, address provider) external view returns (Bid memory) {
        return _bids[orderId][provider];
    }

    /// @inheritdoc IComputeMarket
    function getLease(uint64 leaseId) external view returns (Lease memory) {
        return _leases[leaseId];
    }

    /// @inheritdoc IComputeMarket
    function leaseAccrual(uint64 leaseId) external view returns (LeaseAccrual memory a) {
        Lease memory m = _leases[leaseId];
        if (m.provider == address(0)) return a;
        LeaseMath.Stream memory s = _stream(m);
        a.active = true;
        a.currentPeriod = LeaseMath.currentPeriod(s.start, s.period, block.timestamp);
        a.heartbeatDue = s.nextPeriod == a.currentPeriod;
        (, a.reportablePeriods, ) = LeaseMath.missedWindow(s, block.timestamp);
        (, a.settleable, a.overdrawn) = LeaseMath.settlement(s, block.timestamp);
        a.ended = s.endsAt != 0 && block.timestamp >= s.endsAt;
        a.fundedUntil = LeaseMath.fundedUntil(s);
        a.reservedPenalty = _reservedPenalty(leaseId, m.collateral, _penaltyTerms.noNoticePenaltyBps);
    }

    // ------------------------------------------------------------------ internal

    function _liveLease(uint64 leaseId) private view returns (Lease storage lease) {
        lease = _leases[leaseId];
        if (lease.provider == address(0)) revert ComputeUnknownLease(leaseId);
    }

    /// @dev Words 0-2 of a lease (escrow, buffer and notice window left zero).
    function _leaseWithoutFunds(Lease storage lease) private view returns (Lease memory m) {
        m.provider = lease.provider;
        m.startedAt = lease.startedAt;
        m.nextPeriod = lease.nextPeriod;
        m.heartbeatPeriod = lease.heartbeatPeriod;
        m.tenant = lease.tenant;
        m.pricePerSecond = lease.pricePerSecond;
        m.collateral = lease.collateral;
        m.paidSeconds = lease.paidSeconds;
        m.missedSeconds = lease.missedSeconds;
        m.endsAt = lease.endsAt;
        m.missedHeartbeats = lease.missedHeartbeats;
        m.maxMissedHeartbeats = lease.maxMissedHeartbeats;
        m.noticeGiven = lease.noticeGiven;
    }

    /// @dev What a report changes in word 2 of a lease.
    function _writeReportedState(
        Lease storage lease,
        uint40 missedSeconds,
        uint96 collateral,
        uint16 missedHeartbeats
    ) private {
        lease.missedSeconds = missedSeconds;
        lease.collateral = collateral;
        lease.missedHeartbeats = missedHeartbeats;
    }

    /// @dev Final settlement, refund, buffer, penalty and collateral release; deletes the lease. `slashed` is
    ///      collateral already taken from the lease in this transaction (a missed-heartbeat bounty) and credited,
    ///      which the registry still has to move together with the penalty.
    function _closeLease(
        uint64 leaseId,
        Lease memory m,
        CloseReason reason,
        address closer,
        uint256 slashed
    ) private {
        Closing memory c = _closing(leaseId, m, reason);
        delete _leases[leaseId];
        delete _acceptedCollateral[leaseId];

        if (c.paidToProvider != 0) _credit(m.provider, c.paidToProvider);
        if (c.refundToTenant + c.toTenant != 0) _credit(m.tenant, c.refundToTenant + c.toTenant);
        if (c.bountyToCloser != 0) _credit(closer, c.bountyToCloser);
        if (c.penalty != 0) {
            if (c.toTreasury != 0) _creditTreasury(c.toTreasury);
            emit LeaseSlashed(m.provider, leaseId, c.toTenant, 0, c.toTreasury);
        }
        emit LeaseClosed(
            leaseId,
            reason,
            closer,
            c.paidToProvider,
            c.refundToTenant,
            c.bountyToCloser,
            c.toTenant,
            c.released
        );

        // Interactions last: move the collateral in the registry.
        uint256 toSlash = slashed + c.penalty;
        if (toSlash != 0) _registry.slash(m.provider, toSlash, 0);
        if (c.released != 0) _registry.unlockCollateral(m.provider, c.released);
    }

    function _closing(
        uint64 leaseId,
        Lease memory m,
        CloseReason reason
    ) private view returns (Closing memory c) {
        (c.paidSeconds, c.paidToProvider, ) = LeaseMath.settlement(_stream(m), block.timestamp);
        if (reason == CloseReason.InsufficientFunds) c.bountyToCloser = m.closeBounty;
        // paidToProvider <= escrow (settlement pays only what the escrow covers).
        c.refundToTenant = m.escrow - c.paidToProvider + m.closeBounty - c.bountyToCloser;
        if (reason == CloseReason.ProviderWithoutNotice || reason == CloseReason.MissedHeartbeats) {
            // The no-notice penalty on the collateral at acceptance, which reports could not consume.
            ComputeParams.PenaltyTerms memory p = _penaltyTerms;
            c.penalty = _reservedPenalty(leaseId, m.collateral, p.noNoticePenaltyBps);
            if (reason == CloseReason.MissedHeartbeats) {
                uint256 onRemaining = BasisPoints.share(m.collateral, _leaseTerms.missedHeartbeatsPenaltyBps);
                if (onRemaining > c.penalty) c.penalty = onRemaining;
            }
            (c.toTreasury, c.toTenant) = SlashSplit.split(c.penalty, p.treasuryShareBps);
        }
        c.released = m.collateral - c.penalty;
    }

    /// @dev `noNoticePenaltyBps` of the lease's collateral at acceptance, capped by the collateral left.
    function _reservedPenalty(
        uint64 leaseId,
        uint256 collateralLeft,
        uint256 noNoticePenaltyBps
    ) private view returns (uint256 reserved) {
        reserved = BasisPoints.share(_acceptedCollateral[leaseId], noNoticePenaltyBps);
        if (reserved > collateralLeft) reserved = collateralLeft;
    }
}
