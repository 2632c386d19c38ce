// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICreditLedger } from "./ICreditLedger.sol";
import { IMarketGovernance } from "./IMarketGovernance.sol";

/// @title IComputeMarket
/// @notice Compute leases between tenants and providers: a tenant posts an order (resources, maximum price per
///         second, deposit); registered providers bid at or below that price with collateral and a notice
///         window; the tenant accepts one bid and the lease streams the escrow per second to the provider,
///         which proves liveness with one heartbeat per heartbeat period. Missed heartbeats are refunded to the
///         tenant and reported for a bounty; leaving without notice or missing too many heartbeats slashes the
///         provider's collateral to the tenant; an overdrawn lease is closed by anyone for a bounty set aside
///         at lease start. See docs/SPEC.md, "Compute leases", for the rules. A pause (`IGoverned.pause`)
///         stops new orders, bids and acceptances; cancelling, expiring, withdrawing bids, top-ups, settlement,
///         heartbeats, reports, notice, closing and ledger withdrawals continue.
/// @dev Ids: orders are numbered from 1; a lease takes the id of the order it fills (one lease per order); a bid
///      is identified by its order id and its provider (one bid per provider per order).
interface IComputeMarket is ICreditLedger, IMarketGovernance {
    // ------------------------------------------------------------------ types

    /// @notice Resources a tenant asks for. The market does not interpret them; providers' agents do.
    /// @param cpuMillicores CPU in thousandths of a core (non-zero).
    /// @param memoryMiB Memory in MiB (non-zero).
    /// @param storageGiB Ephemeral storage in GiB.
    /// @param gpuCount Number of GPUs.
    /// @param gpuModel GPU model, ASCII, right-padded with zero bytes (e.g. "a100-80gb"); zero for any.
    /// @param region Region, ASCII, right-padded with zero bytes (e.g. "eu-west"); zero for any.
    struct ResourceSpec {
        uint32 cpuMillicores;
        uint32 memoryMiB;
        uint32 storageGiB;
        uint16 gpuCount;
        bytes16 gpuModel;
        bytes16 region;
    }

    /// @notice What a tenant submits to post an order.
    /// @param spec Resources.
    /// @param workloadHash Hash of the full workload description (command or image, arguments, environment),
    ///        which the tenant hands to the winning provider off chain; the provider checks it against this hash.
    /// @param maxPricePerSecond Highest price per second the tenant accepts (non-zero).
    /// @param deposit Tokens escrowed now: the lease's initial escrow plus the close bounty buffer.
    /// @param duration Lease length in seconds from acceptance; 0 for open-ended (runs while funded).
    /// @param expiresAt Timestamp from which the order can no longer be bid on or accepted.
    /// @param minCollateral Least collateral a bid must lock.
    /// @param minNoticeWindow Shortest notice window a bid may offer, in seconds.
    struct OrderRequest {
        ResourceSpec spec;
        bytes32 workloadHash;
        uint96 maxPricePerSecond;
        uint128 deposit;
        uint64 duration;
        uint64 expiresAt;
        uint96 minCollateral;
        uint32 minNoticeWindow;
    }

    /// @notice Lifecycle of an order.
    enum OrderStatus {
        None,
        Open,
        Filled,
        Cancelled,
        Expired
    }

    /// @notice Lifecycle of a bid. An accepted or withdrawn bid is removed (status `None`); a rejected bid stays
    ///         `Rejected` so its provider cannot bid on that order again.
    enum BidStatus {
        None,
        Active,
        Rejected
    }

    /// @notice Why a lease closed. The numbers are stable.
    /// @dev Tenant (0): the tenant closed it. ProviderWithNotice (1): the provider's notice window ran out.
    ///      ProviderWithoutNotice (2): the provider left before its notice ran out (collateral slashed).
    ///      MissedHeartbeats (3): the provider missed `maxMissedHeartbeats` periods (collateral slashed).
    ///      InsufficientFunds (4): the escrow could not pay for the provider's time (closer earns the buffer).
    ///      Expired (5): the lease reached its duration.
    enum CloseReason {
        Tenant,
        ProviderWithNotice,
        ProviderWithoutNotice,
        MissedHeartbeats,
        InsufficientFunds,
        Expired
    }

    /// @notice An order as stored (three storage words).
    /// @param tenant Who posted it.
    /// @param expiresAt Timestamp from which it can no longer be bid on or accepted.
    /// @param duration Lease length in seconds (0 = open-ended).
    /// @param status Lifecycle state.
    /// @param bidCount Active bids while open (at most `MAX_BIDS`).
    /// @param deposit Tokens escrowed (lease escrow + close bounty buffer).
    /// @param maxPricePerSecond Highest accepted price per second.
    /// @param minNoticeWindow Shortest accepted notice window.
    /// @param minCollateral Least accepted collateral.
    /// @param closeBounty Buffer set aside from the deposit at lease start (fixed when the order is posted).
    struct Order {
        address tenant;
        uint40 expiresAt;
        uint40 duration;
        OrderStatus status;
        uint8 bidCount;
        uint128 deposit;
        uint96 maxPricePerSecond;
        uint32 minNoticeWindow;
        uint96 minCollateral;
        uint96 closeBounty;
    }

    /// @notice A bid as stored (one storage word, keyed by order and provider).
    /// @param status Lifecycle state.
    /// @param pricePerSecond Price per second asked.
    /// @param collateral Stake locked in the registry for the bid (and the lease, if accepted).
    /// @param noticeWindow Seconds of notice the provider promises before leaving.
    struct Bid {
        BidStatus status;
        uint96 pricePerSecond;
        uint96 collateral;
        uint32 noticeWindow;
    }

    /// @notice A live lease as stored; all fields are zero once it has closed. Four storage words, fields grouped
    ///         by the calls that use them: the first holds everything a heartbeat reads and writes; a
    ///         missed-heartbeat report reads the first three and writes the first and third, never the fourth (the
    ///         escrow). Timestamps and second counts use 40 bits; the heartbeat period and notice window fit 24
    ///         bits by their parameter bounds.
    /// @param provider Who runs the workload and heartbeats.
    /// @param startedAt Acceptance timestamp; heartbeat period `k` is `[startedAt + k*P, startedAt + (k+1)*P)`.
    /// @param nextPeriod First heartbeat period not yet resolved (neither heartbeated nor reported missed).
    /// @param heartbeatPeriod Heartbeat period `P` in seconds (fixed at lease start).
    /// @param tenant Who pays.
    /// @param pricePerSecond Price per second.
    /// @param collateral Provider collateral still locked for the lease (missed-heartbeat penalties reduce it).
    /// @param paidSeconds Seconds paid to the provider so far.
    /// @param missedSeconds Seconds of missed periods (never paid; their cost stays in the escrow).
    /// @param endsAt End of paid time (duration reached or notice ran out); 0 while open-ended.
    /// @param missedHeartbeats Missed periods reported so far.
    /// @param maxMissedHeartbeats Missed periods that close the lease (fixed at lease start).
    /// @param noticeGiven True once the provider gave notice (then `endsAt` is the notice's end).
    /// @param escrow Tokens held for the lease and not yet paid to the provider.
    /// @param closeBounty Buffer paid to whoever closes the lease for insufficient funds (else back to the tenant).
    /// @param noticeWindow The provider's notice window in seconds.
    struct Lease {
        address provider;
        uint40 startedAt;
        uint32 nextPeriod;
        uint24 heartbeatPeriod;
        address tenant;
        uint96 pricePerSecond;
        uint96 collateral;
        uint40 paidSeconds;
        uint40 missedSeconds;
        uint40 endsAt;
        uint16 missedHeartbeats;
        uint8 maxMissedHeartbeats;
        bool noticeGiven;
        uint128 escrow;
        uint96 closeBounty;
        uint24 noticeWindow;
    }

    // A view's return value, never stored: its field order follows meaning, not packing.
    // solhint-disable gas-struct-packing
    /// @notice A lease's position now, computed for off-chain agents (see `leaseAccrual`).
    /// @param active True while the lease exists (accepted and not closed).
    /// @param currentPeriod Heartbeat period containing the current time.
    /// @param heartbeatDue True when the current period still needs its heartbeat (`nextPeriod == currentPeriod`).
    /// @param reportablePeriods Closed periods without a heartbeat that `reportMissedHeartbeats` would report now.
    /// @param settleable Tokens `settleLease` would credit to the provider now.
    /// @param overdrawn True when the escrow cannot pay the provider's resolved time up to now (closable for
    ///        `InsufficientFunds`).
    /// @param ended True when `endsAt` is set and reached (closable for `Expired` or `ProviderWithNotice`).
    /// @param fundedUntil Time until which the escrow pays the provider if every period is heartbeated.
    /// @param reservedPenalty Collateral that missed-heartbeat reports cannot take: the no-notice penalty on the
    ///        collateral at acceptance (capped by what is left).
    struct LeaseAccrual {
        bool active;
        uint256 currentPeriod;
        bool heartbeatDue;
        uint256 reportablePeriods;
        uint256 settleable;
        bool overdrawn;
        bool ended;
        uint256 fundedUntil;
        uint256 reservedPenalty;
    }
    // solhint-enable gas-struct-packing

    /// @notice Governance parameters; every field has hard bounds in `ComputeParams`.
    /// @param heartbeatPeriod Heartbeat period of new leases, in seconds.
    /// @param maxMissedHeartbeats Missed periods that close a new lease for `MissedHeartbeats`.
    /// @param missedHeartbeatsPenaltyBps Share of the remaining collateral slashed when a lease closes for
    ///        `MissedHeartbeats`, in bps.
    /// @param noNoticePenaltyBps Share of the collateral slashed when a provider leaves without notice, in bps.
    /// @param treasuryShareBps Share of every penalty sent to the treasury, in bps (the rest goes to the tenant).
    /// @param minNoticeWindow Shortest notice window a bid may offer, in seconds.
    /// @param maxNoticeWindow Longest notice window a bid may offer, in seconds.
    /// @param maxOrderLifetime Longest time an order may stay open, in seconds.
    /// @param maxLeaseDuration Longest fixed lease duration, in seconds.
    /// @param missedHeartbeatPenalty Tokens per missed period slashed from the lease's collateral above the
    ///        reserved no-notice penalty (the reporter takes `reporterShareBps` of it, the tenant the rest less the
    ///        treasury share).
    /// @param closeBounty Buffer set aside from each new order's deposit for closing an overdrawn lease.
    /// @param reporterShareBps Share of a missed-heartbeat penalty credited to the reporter, in bps (<= 5,000).
    struct Parameters {
        uint32 heartbeatPeriod;
        uint8 maxMissedHeartbeats;
        uint16 missedHeartbeatsPenaltyBps;
        uint16 noNoticePenaltyBps;
        uint16 treasuryShareBps;
        uint32 minNoticeWindow;
        uint32 maxNoticeWindow;
        uint32 maxOrderLifetime;
        uint32 maxLeaseDuration;
        uint96 missedHeartbeatPenalty;
        uint96 closeBounty;
        uint16 reporterShareBps;
    }

    // ------------------------------------------------------------------ events

    /// @notice Emitted when a tenant posts an order; carries everything a provider needs to decide on a bid.
    /// @param orderId Order id (also the id of the lease it may become).
    /// @param tenant The tenant.
    /// @param request The order as submitted (resources, workload hash, price cap, deposit, terms).
    /// @param closeBounty Buffer that will be set aside from the deposit at lease start.
    event OrderCreated(
        uint64 indexed orderId,
        address indexed tenant,
        OrderRequest request,
        uint96 closeBounty
    );
    /// @notice Emitted when the tenant cancels an open order.
    /// @param orderId The order.
    /// @param refund Deposit credited back to the tenant's ledger balance.
    event OrderCancelled(uint64 indexed orderId, uint256 refund);
    /// @notice Emitted when an unfilled order is expired.
    /// @param orderId The order.
    /// @param refund Deposit credited back to the tenant's ledger balance.
    event OrderExpired(uint64 indexed orderId, uint256 refund);
    /// @notice Emitted when a provider bids.
    /// @param orderId The order.
    /// @param provider The provider.
    /// @param pricePerSecond Price per second asked.
    /// @param collateral Collateral locked in the registry.
    /// @param noticeWindow Notice window promised, in seconds.
    event BidCreated(
        uint64 indexed orderId,
        address indexed provider,
        uint96 pricePerSecond,
        uint96 collateral,
        uint32 noticeWindow
    );
    /// @notice Emitted when a provider withdraws a bid (while the order is open, or after it lost).
    /// @param orderId The order.
    /// @param provider The provider.
    /// @param collateralReleased Collateral returned to the provider's free stake.
    event BidWithdrawn(uint64 indexed orderId, address indexed provider, uint256 collateralReleased);
    /// @notice Emitted when the tenant rejects a bid on its open order.
    /// @param orderId The order.
    /// @param provider The provider, which may not bid on this order again.
    /// @param collateralReleased Collateral returned to the provider's free stake.
    event BidRejected(uint64 indexed orderId, address indexed provider, uint256 collateralReleased);
    /// @notice Emitted when the tenant accepts a bid; the lease starts now. The workload is the order's
    ///         (see `OrderCreated` with the same id).
    /// @param leaseId Lease id (the order id).
    /// @param tenant The tenant.
    /// @param provider The winning provider.
    /// @param pricePerSecond Price per second.
    /// @param collateral Collateral locked for the lease.
    /// @param noticeWindow Provider's notice window in seconds.
    /// @param escrow Initial escrow (deposit minus the close bounty buffer).
    /// @param closeBounty Close bounty buffer.
    /// @param startedAt Start timestamp (start of heartbeat period 0).
    /// @param endsAt End timestamp (0 = open-ended).
    /// @param heartbeatPeriod Heartbeat period in seconds.
    /// @param maxMissedHeartbeats Missed periods that close the lease.
    event LeaseStarted(
        uint64 indexed leaseId,
        address indexed tenant,
        address indexed provider,
        uint96 pricePerSecond,
        uint96 collateral,
        uint32 noticeWindow,
        uint128 escrow,
        uint96 closeBounty,
        uint64 startedAt,
        uint64 endsAt,
        uint32 heartbeatPeriod,
        uint8 maxMissedHeartbeats
    );
    /// @notice Emitted when tokens are added to a lease's escrow.
    /// @param leaseId The lease.
    /// @param payer Who paid (from its ledger balance or allowance).
    /// @param amount Tokens added.
    /// @param escrow Escrow after the top-up.
    event LeaseToppedUp(uint64 indexed leaseId, address indexed payer, uint256 amount, uint256 escrow);
    /// @notice Emitted when `settleLease` settles a lease's stream (a close reports its final payment in
    ///         `LeaseClosed` instead).
    /// @param leaseId The lease.
    /// @param amount Tokens credited to the provider.
    /// @param paidSeconds Seconds paid in total after this settlement.
    /// @param escrow Escrow left after this settlement.
    event LeaseSettled(uint64 indexed leaseId, uint256 amount, uint64 paidSeconds, uint256 escrow);
    /// @notice Emitted when the provider posts the heartbeat of a period.
    /// @param leaseId The lease.
    /// @param period The heartbeat period now covered.
    event HeartbeatPosted(uint64 indexed leaseId, uint32 period);
    /// @notice Emitted when closed periods without a heartbeat are reported. Their time is never paid to the
    ///         provider: its cost stays in the escrow and returns to the tenant at close.
    /// @param leaseId The lease.
    /// @param reporter Who reported.
    /// @param fromPeriod First missed period.
    /// @param count Number of consecutive missed periods reported.
    /// @param refunded Tokens of escrow no longer payable to the provider (`pricePerSecond * missed seconds`).
    /// @param bounty Tokens credited to the reporter: `reporterShareBps` of the penalty slashed (`LeaseSlashed`).
    event MissedHeartbeatsReported(
        uint64 indexed leaseId,
        address indexed reporter,
        uint32 fromPeriod,
        uint32 count,
        uint256 refunded,
        uint256 bounty
    );
    /// @notice Emitted when the provider gives notice; the lease can be closed by anyone from `endsAt`.
    /// @param leaseId The lease.
    /// @param endsAt End of the notice window.
    event LeaseNoticeGiven(uint64 indexed leaseId, uint64 endsAt);
    /// @notice Emitted when a lease closes and its escrow, buffer and collateral are distributed.
    /// @param leaseId The lease.
    /// @param reason Why.
    /// @param closer Who closed it.
    /// @param paidToProvider Final payment credited to the provider.
    /// @param refundedToTenant Unstreamed escrow credited back to the tenant (includes the buffer unless paid
    ///        to the closer).
    /// @param bountyToCloser Buffer credited to the closer (`InsufficientFunds` only).
    /// @param compensationToTenant Slashed collateral credited to the tenant.
    /// @param collateralReleased Collateral returned to the provider's free stake.
    event LeaseClosed(
        uint64 indexed leaseId,
        CloseReason indexed reason,
        address indexed closer,
        uint256 paidToProvider,
        uint256 refundedToTenant,
        uint256 bountyToCloser,
        uint256 compensationToTenant,
        uint256 collateralReleased
    );
    /// @notice Emitted when a provider's lease collateral is slashed.
    /// @param provider The provider.
    /// @param leaseId The lease.
    /// @param toTenant Compensation credited to the tenant's ledger balance.
    /// @param toReporter Bounty to the reporter of missed heartbeats.
    /// @param toTreasury Treasury share.
    event LeaseSlashed(
        address indexed provider,
        uint64 indexed leaseId,
        uint256 toTenant,
        uint256 toReporter,
        uint256 toTreasury
    );
    /// @notice Emitted when parameters change.
    /// @param params The new parameters.
    event ParametersSet(Parameters params);

    // ------------------------------------------------------------------ errors

    /// @notice A parameter is outside its hard bounds.
    /// @param name Parameter name.
    /// @param value Value given.
    /// @param min Lowest accepted.
    /// @param max Highest accepted.
    error ComputeParameterOutOfBounds(string name, uint256 value, uint256 min, uint256 max);
    /// @notice The market's token is not the registry's token.
    /// @param marketToken Market token.
    /// @param registryToken Registry token.
    error ComputeTokenMismatch(address marketToken, address registryToken);
    /// @notice The order asks for no CPU or no memory.
    error ComputeEmptyResources();
    /// @notice The order's maximum price is zero.
    error ComputeZeroPrice();
    /// @notice The deposit does not exceed the close bounty buffer.
    /// @param deposit Deposit given.
    /// @param closeBounty The buffer it must exceed.
    error ComputeDepositTooSmall(uint256 deposit, uint256 closeBounty);
    /// @notice The lease duration is neither 0 (open-ended) nor within bounds.
    /// @param duration Duration given, in seconds.
    /// @param min Shortest accepted (one heartbeat period).
    /// @param max Longest accepted.
    error ComputeBadDuration(uint64 duration, uint256 min, uint256 max);
    /// @notice The order's expiry is not in `(now, now + maxOrderLifetime]`.
    /// @param expiresAt Expiry given.
    /// @param nowTs Current timestamp.
    /// @param latest Latest accepted expiry.
    error ComputeBadExpiry(uint64 expiresAt, uint256 nowTs, uint256 latest);
    /// @notice A notice window is outside its bounds.
    /// @param noticeWindow Window given, in seconds.
    /// @param min Shortest accepted.
    /// @param max Longest accepted.
    error ComputeBadNoticeWindow(uint256 noticeWindow, uint256 min, uint256 max);
    /// @notice The payer could not fund the amount from its ledger balance or its allowance.
    /// @param payer The payer.
    /// @param amount Amount needed.
    error ComputeUnfunded(address payer, uint256 amount);
    /// @notice The order is not open.
    /// @param orderId The order.
    /// @param status Its status.
    error ComputeOrderNotOpen(uint64 orderId, OrderStatus status);
    /// @notice The order has expired: it can no longer be bid on or accepted (expire it instead).
    /// @param orderId The order.
    /// @param expiresAt Its expiry.
    /// @param nowTs Current timestamp.
    error ComputeOrderExpired(uint64 orderId, uint64 expiresAt, uint256 nowTs);
    /// @notice The order has not expired yet.
    /// @param orderId The order.
    /// @param expiresAt Its expiry.
    /// @param nowTs Current timestamp.
    error ComputeOrderNotExpired(uint64 orderId, uint64 expiresAt, uint256 nowTs);
    /// @notice Only the order's tenant may do this.
    /// @param orderId The order.
    /// @param caller The caller.
    error ComputeNotTenant(uint64 orderId, address caller);
    /// @notice The caller is not a registered provider.
    /// @param provider The caller.
    error ComputeNotRegistered(address provider);
    /// @notice A tenant may not bid on its own order.
    /// @param orderId The order.
    error ComputeSelfBid(uint64 orderId);
    /// @notice The provider already has a bid (active or rejected) on the order.
    /// @param orderId The order.
    /// @param provider The provider.
    /// @param status The existing bid's status.
    error ComputeBidExists(uint64 orderId, address provider, BidStatus status);
    /// @notice The order already has the most active bids allowed.
    /// @param orderId The order.
    /// @param maxBids The limit.
    error ComputeTooManyBids(uint64 orderId, uint256 maxBids);
    /// @notice The bid's price is zero or above the order's maximum.
    /// @param pricePerSecond Price given.
    /// @param maxPricePerSecond The order's maximum.
    error ComputeBadBidPrice(uint96 pricePerSecond, uint96 maxPricePerSecond);
    /// @notice The bid's collateral is below the order's minimum.
    /// @param collateral Collateral given.
    /// @param minCollateral The order's minimum.
    error ComputeCollateralTooLow(uint96 collateral, uint96 minCollateral);
    /// @notice There is no active bid by `provider` on the order.
    /// @param orderId The order.
    /// @param provider The provider.
    /// @param status The bid's status.
    error ComputeBidNotActive(uint64 orderId, address provider, BidStatus status);
    /// @notice The lease does not exist or has closed.
    /// @param leaseId The lease.
    error ComputeUnknownLease(uint64 leaseId);
    /// @notice Only the lease's provider may do this.
    /// @param leaseId The lease.
    /// @param caller The caller.
    error ComputeNotProvider(uint64 leaseId, address caller);
    /// @notice The current period's heartbeat was already posted.
    /// @param leaseId The lease.
    /// @param period The current period.
    error ComputeHeartbeatAlreadyPosted(uint64 leaseId, uint256 period);
    /// @notice Closed periods without a heartbeat must be reported (`reportMissedHeartbeats`) before the next
    ///         heartbeat.
    /// @param leaseId The lease.
    /// @param nextPeriod First unresolved period.
    /// @param currentPeriod Current period.
    error ComputeUnresolvedHeartbeats(uint64 leaseId, uint32 nextPeriod, uint256 currentPeriod);
    /// @notice No closed period of the lease is unresolved.
    /// @param leaseId The lease.
    /// @param nextPeriod First unresolved period.
    /// @param currentPeriod Current period.
    error ComputeNoMissedHeartbeats(uint64 leaseId, uint32 nextPeriod, uint256 currentPeriod);
    /// @notice Notice would not end the lease earlier than it already ends (or it has already ended).
    /// @param leaseId The lease.
    /// @param endsAt Its current end.
    error ComputeAlreadyEnding(uint64 leaseId, uint64 endsAt);
    /// @notice The lease cannot be closed for this reason by this caller now.
    /// @param leaseId The lease.
    /// @param reason The reason given.
    /// @param caller The caller.
    error ComputeCloseNotAllowed(uint64 leaseId, CloseReason reason, address caller);

    // ------------------------------------------------------------------ orders

    /// @notice Post an order. The deposit is taken from the caller's ledger balance if it covers it, else pulled
    ///         from its allowance (exactly; fee-on-transfer tokens are rejected). The current `closeBounty`
    ///         parameter is fixed for the order. Blocked while paused.
    /// @param request The order.
    /// @return orderId The new order's id.
    function createOrder(OrderRequest calldata request) external returns (uint64 orderId);

    /// @notice Cancel the caller's open order; the deposit is credited to its ledger balance. Bidders then
    ///         withdraw their bids themselves.
    /// @param orderId The order.
    function cancelOrder(uint64 orderId) external;

    /// @notice Expire an open order whose expiry has passed; the deposit is credited to the tenant's ledger
    ///         balance. Anyone may call.
    /// @param orderId The order.
    function expireOrder(uint64 orderId) external;

    // ------------------------------------------------------------------ bids

    /// @notice Bid on an open, unexpired order. Locks `collateral` of the caller's free stake in the registry.
    ///         One bid per provider per order; at most `MAX_BIDS` active bids per order. Blocked while paused.
    /// @param orderId The order.
    /// @param pricePerSecond Price per second (1..order's maximum).
    /// @param collateral Collateral to lock (at least the order's minimum).
    /// @param noticeWindow Notice window in seconds (within the parameters' bounds and at least the order's
    ///        minimum).
    function createBid(
        uint64 orderId,
        uint96 pricePerSecond,
        uint96 collateral,
        uint32 noticeWindow
    ) external;

    /// @notice Withdraw the caller's active bid and unlock its collateral: while the order is open, or after it
    ///         was filled by another bid, cancelled or expired.
    /// @param orderId The order.
    function withdrawBid(uint64 orderId) external;

    /// @notice Reject an active bid on the caller's open order: its collateral is unlocked, its slot freed, and
    ///         its provider may not bid on this order again.
    /// @param orderId The order.
    /// @param provider The bidder.
    function rejectBid(uint64 orderId, address provider) external;

    /// @notice Accept `provider`'s bid on the caller's open, unexpired order: the lease starts now with the
    ///         bid's price, collateral and notice window, the deposit minus the close bounty as escrow, and the
    ///         current heartbeat period and missed-heartbeat limit. Costs the same whatever the number of bids.
    ///         Blocked while paused.
    /// @param orderId The order.
    /// @param provider The winning bidder.
    /// @return leaseId The lease id (equal to `orderId`).
    function acceptBid(uint64 orderId, address provider) external returns (uint64 leaseId);

    // ------------------------------------------------------------------ leases

    /// @notice Add `amount` to a live lease's escrow. Anyone may pay for the tenant: from the caller's ledger
    ///         balance if it covers the amount, else from its allowance. Never blocked by a pause.
    /// @param leaseId The lease.
    /// @param amount Tokens to add (non-zero).
    function topUp(uint64 leaseId, uint256 amount) external;

    /// @notice Credit the provider with the lease's paid time so far: heartbeated (resolved, not missed) time up
    ///         to now or the lease's end, as far as the escrow covers it. O(1); anyone may call.
    /// @param leaseId The lease.
    /// @return amount Tokens credited.
    function settleLease(uint64 leaseId) external returns (uint256 amount);

    /// @notice Post the heartbeat of the current period. Provider only; needs every earlier period resolved
    ///         (see `reportMissedHeartbeats`). A heartbeat during period `k` makes period `k` payable.
    /// @param leaseId The lease.
    function heartbeat(uint64 leaseId) external;

    /// @notice Report every closed period of the lease without a heartbeat (up to the lease's end). Their time
    ///         is not paid to the provider; `min(count × missedHeartbeatPenalty, collateral above the reserved
    ///         no-notice penalty)` is slashed from the lease's collateral: the reporter earns `reporterShareBps`
    ///         of it, the treasury its share, and the rest is credited to the tenant's ledger balance at once
    ///         (withdrawable; never added to the escrow, so it cannot cure an overdraft). When the lease's missed periods reach its limit it closes for `MissedHeartbeats` with a
    ///         penalty to the tenant. Anyone may call; a provider reporting itself still loses the penalty less
    ///         the share.
    /// @param leaseId The lease.
    /// @return bounty Tokens credited to the caller.
    function reportMissedHeartbeats(uint64 leaseId) external returns (uint256 bounty);

    /// @notice Give notice: the lease ends at `now + noticeWindow` (if that is earlier than its current end);
    ///         from then anyone may close it for `ProviderWithNotice` without penalty. Provider only.
    /// @param leaseId The lease.
    /// @return endsAt The new end.
    function giveNotice(uint64 leaseId) external returns (uint64 endsAt);

    /// @notice Close a lease for `reason`: final settlement, unstreamed escrow to the tenant, the close bounty
    ///         buffer to the closer (`InsufficientFunds`) or the tenant, and the collateral unlocked or slashed.
    ///         Who may close for which reason: `Tenant` the tenant, any time; `ProviderWithoutNotice` the
    ///         provider before the lease's end (penalty `noNoticePenaltyBps`); `ProviderWithNotice` anyone once a
    ///         notice has run out; `Expired` anyone once a lease without notice reached its duration;
    ///         `InsufficientFunds` anyone while the lease is overdrawn. `MissedHeartbeats` is applied by
    ///         `reportMissedHeartbeats` only. Never blocked by a pause.
    /// @param leaseId The lease.
    /// @param reason The reason; must apply, so that a top-up or settlement racing the call cannot change it.
    function closeLease(uint64 leaseId, CloseReason reason) external;

    // ------------------------------------------------------------------ governance

    /// @notice Set all parameters at once; each is checked against its hard bounds. Live leases keep the
    ///         heartbeat period and missed-heartbeat limit they started with, and open orders their close
    ///         bounty. Parameter role only.
    /// @param params The parameters.
    function setParameters(Parameters calldata params) external;

    // ------------------------------------------------------------------ views

    /// @notice Most active bids per order.
    /// @return The limit.
    function MAX_BIDS() external view returns (uint256);

    /// @notice The provider registry.
    /// @return The registry address.
    function registry() external view returns (address);

    /// @notice The current parameters.
    /// @return The parameters.
    function parameters() external view returns (Parameters memory);

    /// @notice Id of the most recent order (0 before the first).
    /// @return The id.
    function lastOrderId() external view returns (uint64);

    /// @notice An order (all zero if it does not exist).
    /// @param orderId The order.
    /// @return The order.
    function getOrder(uint64 orderId) external view returns (Order memory);

    /// @notice A provider's bid on an order (`BidStatus.None` if none, withdrawn or accepted).
    /// @param orderId The order.
    /// @param provider The provider.
    /// @return The bid.
    function getBid(uint64 orderId, address provider) external view returns (Bid memory);

    /// @notice A live lease (all zero if it does not exist or has closed).
    /// @param leaseId The lease.
    /// @return The lease.
    function getLease(uint64 leaseId) external view returns (Lease memory);

    /// @notice Where a lease stands now: heartbeat due, reportable misses, settleable amount, overdraft, end.
    /// @param leaseId The lease.
    /// @return The accrual (all zero if the lease is not live).
    function leaseAccrual(uint64 leaseId) external view returns (LeaseAccrual memory);
}
