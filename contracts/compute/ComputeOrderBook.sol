// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IComputeMarket } from "../interfaces/IComputeMarket.sol";
import { ComputeMarketBase } from "./ComputeMarketBase.sol";
import { ComputeParams } from "./libraries/ComputeParams.sol";

/// @title ComputeOrderBook
/// @notice Orders and bids of the compute market, and the acceptance that turns one bid into a lease. Nothing
///         here loops over bids: losing bidders take their collateral back themselves.
abstract contract ComputeOrderBook is ComputeMarketBase {
    /// @notice Most active bids per order.
    uint256 public constant MAX_BIDS = 32;

    // ------------------------------------------------------------------ orders

    /// @inheritdoc IComputeMarket
    function createOrder(
        OrderRequest calldata request
    ) external whenNotPaused nonReentrant returns (uint64 orderId) {
        ComputeParams.LeaseTerms memory p = _leaseTerms;
        if (request.spec.cpuMillicores == 0 || request.spec.memoryMiB == 0) revert ComputeEmptyResources();
        if (request.maxPricePerSecond == 0) revert ComputeZeroPrice();
        if (request.deposit <= p.closeBounty) revert ComputeDepositTooSmall(request.deposit, p.closeBounty);
        uint64 duration = request.duration;
        if (duration != 0 && (duration < p.heartbeatPeriod || duration > p.maxLeaseDuration)) {
            revert ComputeBadDuration(duration, p.heartbeatPeriod, p.maxLeaseDuration);
        }
        uint256 latest = block.timestamp + p.maxOrderLifetime;
        if (request.expiresAt <= block.timestamp || request.expiresAt > latest) {
            revert ComputeBadExpiry(request.expiresAt, block.timestamp, latest);
        }
        if (request.minNoticeWindow > p.maxNoticeWindow) {
            revert ComputeBadNoticeWindow(request.minNoticeWindow, 0, p.maxNoticeWindow);
        }
        // One id per order; 2^64 orders cannot be reached.
        unchecked {
            orderId = ++_lastOrderId;
        }
        // expiresAt <= now + 90 days and duration <= 10 years (bounds above) fit 40 bits.
        _orders[orderId] = Order({
            tenant: msg.sender,
            expiresAt: uint40(request.expiresAt),
            duration: uint40(duration),
            status: OrderStatus.Open,
            bidCount: 0,
            deposit: request.deposit,
            maxPricePerSecond: request.maxPricePerSecond,
            minNoticeWindow: request.minNoticeWindow,
            minCollateral: request.minCollateral,
            closeBounty: p.closeBounty
        });
        emit OrderCreated(orderId, msg.sender, request, p.closeBounty);
        _fund(msg.sender, request.deposit);
    }

    /// @inheritdoc IComputeMarket
    function cancelOrder(uint64 orderId) external {
        Order storage o = _openOrder(orderId);
        if (o.tenant != msg.sender) revert ComputeNotTenant(orderId, msg.sender);
        o.status = OrderStatus.Cancelled;
        uint256 refund = o.deposit;
        _credit(msg.sender, refund);
        emit OrderCancelled(orderId, refund);
    }

    /// @inheritdoc IComputeMarket
    function expireOrder(uint64 orderId) external {
        Order storage o = _openOrder(orderId);
        if (block.timestamp < o.expiresAt)
            revert ComputeOrderNotExpired(orderId, o.expiresAt, block.timestamp);
        o.status = OrderStatus.Expired;
        uint256 refund = o.deposit;
        _credit(o.tenant, refund);
        emit OrderExpired(orderId, refund);
    }

    // ------------------------------------------------------------------ bids

    /// @inheritdoc IComputeMarket
    function createBid(
        uint64 orderId,
        uint96 pricePerSecond,
        uint96 collateral,
        uint32 noticeWindow
    ) external whenNotPaused {
        Order storage o = _biddableOrder(orderId);
        if (o.tenant == msg.sender) revert ComputeSelfBid(orderId);
        uint256 count = o.bidCount;
        if (count >= MAX_BIDS) revert ComputeTooManyBids(orderId, MAX_BIDS);
        uint96 maxPrice = o.maxPricePerSecond;
        if (pricePerSecond == 0 || pricePerSecond > maxPrice)
            revert ComputeBadBidPrice(pricePerSecond, maxPrice);
        if (collateral < o.minCollateral) revert ComputeCollateralTooLow(collateral, o.minCollateral);
        _checkNoticeWindow(noticeWindow, o.minNoticeWindow);
        Bid storage b = _bids[orderId][msg.sender];
        if (b.status != BidStatus.None) revert ComputeBidExists(orderId, msg.sender, b.status);
        // count < MAX_BIDS was checked above.
        unchecked {
            o.bidCount = uint8(count + 1);
        }
        _bids[orderId][msg.sender] = Bid({
            status: BidStatus.Active,
            pricePerSecond: pricePerSecond,
            collateral: collateral,
            noticeWindow: noticeWindow
        });
        emit BidCreated(orderId, msg.sender, pricePerSecond, collateral, noticeWindow);
        // Locking also checks that the caller is a registered provider; with no collateral, check directly.
        if (collateral != 0) _registry.lockCollateral(msg.sender, collateral);
        else if (!_registry.isRegistered(msg.sender)) revert ComputeNotRegistered(msg.sender);
    }

    /// @inheritdoc IComputeMarket
    function withdrawBid(uint64 orderId) external {
        Bid storage b = _activeBid(orderId, msg.sender);
        uint256 collateral = b.collateral;
        delete _bids[orderId][msg.sender];
        Order storage o = _orders[orderId];
        if (o.status == OrderStatus.Open) {
            // An active bid on an open order is counted in bidCount.
            unchecked {
                --o.bidCount;
            }
        }
        emit BidWithdrawn(orderId, msg.sender, collateral);
        if (collateral != 0) _registry.unlockCollateral(msg.sender, collateral);
    }

    /// @inheritdoc IComputeMarket
    function rejectBid(uint64 orderId, address provider) external {
        Order storage o = _openOrder(orderId);
        if (o.tenant != msg.sender) revert ComputeNotTenant(orderId, msg.sender);
        Bid storage b = _activeBid(orderId, provider);
        uint256 collateral = b.collateral;
        _bids[orderId][provider] = Bid({
            status: BidStatus.Rejected,
            pricePerSecond: 0,
            collateral: 0,
            noticeWindow: 0
        });
        // An active bid on an open order is counted in bidCount.
        unchecked {
            --o.bidCount;
        }
        emit BidRejected(orderId, provider, collateral);
        if (collateral != 0) _registry.unlockCollateral(provider, collateral);
    }

    /// @inheritdoc IComputeMarket
    function acceptBid(uint64 orderId, address provider) external whenNotPaused returns (uint64 leaseId) {
        Order storage o = _biddableOrder(orderId);
        if (o.tenant != msg.sender) revert ComputeNotTenant(orderId, msg.sender);
        Bid memory b = _activeBid(orderId, provider);
        delete _bids[orderId][provider];
        o.status = OrderStatus.Filled;

        uint256 duration = o.duration;
        uint96 closeBounty = o.closeBounty;
        // deposit > closeBounty was checked when the order was posted.
        uint128 escrow = o.deposit - closeBounty;
        // The lease keeps the heartbeat rules it started with.
        uint32 heartbeatPeriod = _leaseTerms.heartbeatPeriod;
        uint8 maxMissed = _leaseTerms.maxMissedHeartbeats;
        // duration <= 10 years, so the end fits 40 bits for ~34,000 years.
        uint40 endsAt = duration == 0 ? 0 : uint40(block.timestamp + duration);
        leaseId = orderId;
        // heartbeatPeriod <= 1 day and noticeWindow <= 90 days by their bounds, so both fit 24 bits.
        _leases[leaseId] = Lease({
            provider: provider,
            startedAt: uint40(block.timestamp),
            nextPeriod: 0,
            heartbeatPeriod: uint24(heartbeatPeriod),
            tenant: msg.sender,
            pricePerSecond: b.pricePerSecond,
            collateral: b.collateral,
            paidSeconds: 0,
            missedSeconds: 0,
            endsAt: endsAt,
            missedHeartbeats: 0,
            maxMissedHeartbeats: maxMissed,
            noticeGiven: false,
            escrow: escrow,
            closeBounty: closeBounty,
            noticeWindow: uint24(b.noticeWindow)
        });
        // The base of the reserved no-notice penalty (docs/SPEC.md §15.5).
        if (b.collateral != 0) _acceptedCollateral[leaseId] = b.collateral;
        emit LeaseStarted(
            leaseId,
            msg.sender,
            provider,
            b.pricePerSecond,
            b.collateral,
            b.noticeWindow,
            escrow,
            closeBounty,
            uint64(block.timestamp),
            endsAt,
            heartbeatPeriod,
            maxMissed
        );
    }

    // ------------------------------------------------------------------ internal

    function _openOrder(uint64 orderId) internal view returns (Order storage o) {
        o = _orders[orderId];
        OrderStatus status = o.status;
        if (status != OrderStatus.Open) revert ComputeOrderNotOpen(orderId, status);
    }

    /// @dev An open order that has not expired.
    function _biddableOrder(uint64 orderId) private view returns (Order storage o) {
        o = _openOrder(orderId);
        uint40 expiresAt = o.expiresAt;
        if (block.timestamp >= expiresAt) revert ComputeOrderExpired(orderId, expiresAt, block.timestamp);
    }

    function _activeBid(uint64 orderId, address provider) private view returns (Bid storage b) {
        b = _bids[orderId][provider];
        BidStatus status = b.status;
        if (status != BidStatus.Active) revert ComputeBidNotActive(orderId, provider, status);
    }

    function _checkNoticeWindow(uint32 noticeWindow, uint32 orderMin) private view {
        uint256 min = _leaseTerms.minNoticeWindow;
        if (orderMin > min) min = orderMin;
        uint256 max = _leaseTerms.maxNoticeWindow;
        if (noticeWindow < min || noticeWindow > max) revert ComputeBadNoticeWindow(noticeWindow, min, max);
    }
}
