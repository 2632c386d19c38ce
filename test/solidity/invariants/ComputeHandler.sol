// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { ComputeMarket } from "../../../contracts/compute/ComputeMarket.sol";
import { IComputeMarket } from "../../../contracts/interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { ProviderRegistry } from "../../../contracts/registry/ProviderRegistry.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { TestBase } from "../utils/TestBase.sol";

/// @notice Drives a ComputeMarket on an existing registry and token (the storage handler's) with bounded random
///         actions of three providers, three tenants and two watchers, and keeps ghost state of every order and
///         lease. The caller must grant the market MARKET_ROLE on the registry.
/// @dev Every action checks its own preconditions and returns early when it cannot succeed, so almost every
///      call the fuzzer makes changes state. Counters record what each action actually did; `violations`
///      counts outcomes that contradict the rules (checked by the invariant suite).
contract ComputeHandler is TestBase {
    uint256 internal constant USDC = 1e6;
    uint256 internal constant PROVIDERS = 3;
    uint256 internal constant TENANTS = 3;
    uint256 internal constant WATCHERS = 2;
    uint256 internal constant HEARTBEAT = 60;
    uint256 internal constant MAX_PRICE = 1_000;
    uint256 internal constant MAX_COLLATERAL = 50 * USDC;
    address internal constant TREASURY = address(0x7EA6);
    /// @notice The treasury `switchTreasury` alternates with.
    address internal constant TREASURY_2 = address(0x7EA7);
    uint256 internal constant BPS = 10_000;
    uint256 internal constant TREASURY_BPS = 1_000;
    uint256 internal constant REPORTER_BPS = 2_000;

    /// @notice What the handler knows about a lease.
    struct GhostLease {
        bool started;
        bool live;
        uint256 paid;
        uint256 funded;
        uint32 nextPeriod;
        uint40 paidSeconds;
        uint40 missedSeconds;
    }

    TestStablecoin internal immutable _token;
    ProviderRegistry internal immutable _registry;
    address internal immutable _minter;
    ComputeMarket public immutable compute;

    address[] internal _providers;
    address[] internal _tenants;
    address[] internal _watchers;
    address[] internal _accounts;

    mapping(uint64 id => GhostLease) internal _ghost;
    mapping(uint64 id => IComputeMarket.OrderStatus) internal _orderStatus;
    mapping(address provider => uint256) internal _expectedLocked;
    mapping(bytes32 action => uint256) internal _calls;
    /// @notice The treasury's share of every penalty so far, as the balance changes of the current treasury when a
    ///         penalty is taken (each report's share is also checked against the split on its own).
    uint256 public treasuryEarned;
    /// @notice What both treasuries withdrew.
    uint256 public treasuryWithdrawn;
    /// @notice Number of outcomes that contradict the rules.
    uint256 public violations;
    /// @notice What the last one was.
    string public lastViolation;

    /// @param token_ The payment token (a TestStablecoin minted by `minter_`).
    /// @param registry_ The shared provider registry.
    /// @param minter_ The token's owner (pranked to mint).
    constructor(TestStablecoin token_, ProviderRegistry registry_, address minter_) {
        _token = token_;
        _registry = registry_;
        _minter = minter_;
        compute = new ComputeMarket(
            IProviderRegistry(address(registry_)),
            IERC20(address(token_)),
            address(this),
            TREASURY,
            100 * USDC,
            100 * USDC,
            IComputeMarket.Parameters({
                heartbeatPeriod: uint32(HEARTBEAT),
                maxMissedHeartbeats: 5,
                missedHeartbeatsPenaltyBps: 5_000,
                noNoticePenaltyBps: 5_000,
                treasuryShareBps: uint16(TREASURY_BPS),
                minNoticeWindow: 60,
                maxNoticeWindow: 1 days,
                maxOrderLifetime: 1 days,
                maxLeaseDuration: 30 days,
                missedHeartbeatPenalty: uint96(USDC / 10),
                closeBounty: uint96(USDC),
                reporterShareBps: uint16(REPORTER_BPS)
            })
        );
        for (uint256 i = 0; i < PROVIDERS; ++i) {
            address p = vm.addr(0xA000 + i);
            _providers.push(p);
            _accounts.push(p);
            vm.prank(p);
            registry_.register(p, "http://127.0.0.1:9100", 0, 0);
        }
        for (uint256 i = 0; i < TENANTS; ++i) {
            _tenants.push(vm.addr(0xB000 + i));
            _accounts.push(vm.addr(0xB000 + i));
        }
        for (uint256 i = 0; i < WATCHERS; ++i) {
            _watchers.push(vm.addr(0xD000 + i));
            _accounts.push(vm.addr(0xD000 + i));
        }
        _accounts.push(TREASURY);
        _accounts.push(TREASURY_2);
    }

    modifier step() {
        _;
        _observe();
    }

    // ================================================================== actions

    /// @notice A provider stakes more.
    function stake(uint256 providerSeed, uint256 amount) external step {
        address p = _providers[providerSeed % PROVIDERS];
        amount = bound(amount, 1, 200 * USDC);
        _mint(p, amount);
        vm.startPrank(p);
        _token.approve(address(_registry), amount);
        _registry.stake(p, amount);
        vm.stopPrank();
        _count("stake");
    }

    /// @notice Time passes (up to two heartbeat periods).
    function warp(uint256 secs) external step {
        vm.warp(block.timestamp + bound(secs, 1, 2 * HEARTBEAT));
        vm.roll(block.number + 1);
        _count("warp");
    }

    /// @notice A tenant posts an order (deposit pulled from its allowance, or from its ledger balance).
    function postOrder(uint256 tenantSeed, uint256 price, uint256 deposit, uint256 duration) external step {
        _post(tenantSeed, price, deposit, duration);
        _count("postOrder");
    }

    /// @notice A tenant posts an order, a provider bids at its maximum price and the tenant accepts at once
    ///         (so that random sequences of both markets' actions reach live leases often).
    function openLease(
        uint256 tenantSeed,
        uint256 providerSeed,
        uint256 deposit,
        uint256 duration
    ) external step {
        (uint64 id, address tenant) = _post(tenantSeed, providerSeed, deposit, duration);
        address p = _providers[providerSeed % PROVIDERS];
        IComputeMarket.Order memory o = compute.getOrder(id);
        uint256 collateral = _registry.stakeInfo(p).free;
        if (collateral > MAX_COLLATERAL) collateral = MAX_COLLATERAL;
        vm.prank(p);
        compute.createBid(id, o.maxPricePerSecond, uint96(collateral), 60);
        _expectedLocked[p] += collateral;
        vm.prank(tenant);
        compute.acceptBid(id, p);
        _started(id, o);
        _count("openLease");
    }

    function _post(
        uint256 tenantSeed,
        uint256 price,
        uint256 deposit,
        uint256 duration
    ) internal returns (uint64 id, address t) {
        t = _tenants[tenantSeed % TENANTS];
        deposit = bound(deposit, USDC + 1, USDC + 20 * HEARTBEAT * MAX_PRICE);
        duration = duration % 2 == 0 ? 0 : bound(duration, HEARTBEAT, 20 * HEARTBEAT);
        IComputeMarket.OrderRequest memory r;
        r.spec.cpuMillicores = 1000;
        r.spec.memoryMiB = 512;
        r.workloadHash = keccak256(abi.encode(t, block.timestamp));
        r.maxPricePerSecond = uint96(bound(price, 1, MAX_PRICE));
        r.deposit = uint128(deposit);
        r.duration = uint64(duration);
        r.expiresAt = uint64(block.timestamp + 5 * HEARTBEAT);
        if (compute.balanceOf(t) < deposit) {
            _mint(t, deposit);
            vm.prank(t);
            _token.approve(address(compute), deposit);
        }
        vm.prank(t);
        id = compute.createOrder(r);
        _orderStatus[id] = IComputeMarket.OrderStatus.Open;
    }

    /// @notice A provider bids on an open order (collateral up to its free stake).
    function bid(uint256 providerSeed, uint256 orderSeed, uint256 price, uint256 collateral) external step {
        address p = _providers[providerSeed % PROVIDERS];
        uint64 last = compute.lastOrderId();
        uint64 id;
        IComputeMarket.Order memory o;
        for (uint64 k = 0; k < last; ++k) {
            uint64 candidate = uint64((orderSeed + k) % last) + 1;
            o = compute.getOrder(candidate);
            if (
                o.status == IComputeMarket.OrderStatus.Open &&
                block.timestamp < o.expiresAt &&
                compute.getBid(candidate, p).status == IComputeMarket.BidStatus.None
            ) {
                id = candidate;
                break;
            }
        }
        if (id == 0) return;
        uint256 free = _registry.stakeInfo(p).free;
        collateral = bound(collateral, 0, MAX_COLLATERAL);
        if (collateral > free) collateral = free;
        vm.prank(p);
        compute.createBid(id, uint96(bound(price, 1, o.maxPricePerSecond)), uint96(collateral), 60);
        _expectedLocked[p] += collateral;
        _count("bid");
    }

    /// @notice A provider withdraws a bid (open order, or a lost / cancelled / expired one).
    function withdrawBid(uint256 providerSeed, uint256 orderSeed) external step {
        uint64 last = compute.lastOrderId();
        uint64 id;
        address p;
        for (uint64 k = 0; k < last && p == address(0); ++k) {
            id = uint64((orderSeed + k) % last) + 1;
            p = _bidder(id, providerSeed);
        }
        if (p == address(0)) return;
        IComputeMarket.Bid memory b = compute.getBid(id, p);
        vm.prank(p);
        compute.withdrawBid(id);
        _expectedLocked[p] -= b.collateral;
        _count("withdrawBid");
    }

    /// @notice A tenant rejects a bid on its open order.
    function rejectBid(uint256 orderSeed, uint256 providerSeed) external step {
        (uint64 id, IComputeMarket.Order memory o) = _biddableOrder(orderSeed);
        address p = _bidder(id, providerSeed);
        if (p == address(0)) return;
        IComputeMarket.Bid memory b = compute.getBid(id, p);
        vm.prank(o.tenant);
        compute.rejectBid(id, p);
        _expectedLocked[p] -= b.collateral;
        _count("rejectBid");
    }

    /// @notice A tenant accepts a bid.
    function accept(uint256 orderSeed, uint256 providerSeed) external step {
        (uint64 id, IComputeMarket.Order memory o) = _biddableOrder(orderSeed);
        address p = _bidder(id, providerSeed);
        if (p == address(0)) return;
        vm.prank(o.tenant);
        compute.acceptBid(id, p);
        _started(id, o);
        _count("accept");
    }

    /// @notice A tenant cancels its order, or anyone expires one.
    function endOrder(uint256 orderSeed, bool cancel) external step {
        (uint64 id, IComputeMarket.Order memory o) = _order(orderSeed);
        if (o.status != IComputeMarket.OrderStatus.Open) return;
        if (cancel) {
            vm.prank(o.tenant);
            compute.cancelOrder(id);
            _orderStatus[id] = IComputeMarket.OrderStatus.Cancelled;
            _count("cancelOrder");
        } else {
            if (block.timestamp < o.expiresAt) return;
            compute.expireOrder(id);
            _orderStatus[id] = IComputeMarket.OrderStatus.Expired;
            _count("expireOrder");
        }
    }

    /// @notice The provider heartbeats the current period (reporting its own misses first if it must).
    function heartbeat(uint256 leaseSeed) external step {
        (uint64 id, IComputeMarket.Lease memory l) = _lease(leaseSeed);
        if (l.provider == address(0)) return;
        uint256 current = (block.timestamp - l.startedAt) / l.heartbeatPeriod;
        if (current < l.nextPeriod) return;
        if (current > l.nextPeriod) {
            // Past the lease's end there is nothing left to report (or to heartbeat).
            if (compute.leaseAccrual(id).reportablePeriods == 0) return;
            _report(id, l.provider);
            // Closed by the report, or past its end (periods after the end are never reported).
            if (compute.getLease(id).nextPeriod != current) return;
        }
        vm.prank(l.provider);
        compute.heartbeat(id);
        _count("heartbeat");
    }

    /// @notice A watcher reports missed heartbeats.
    function reportMissed(uint256 leaseSeed, uint256 watcherSeed) external step {
        uint64 last = compute.lastOrderId();
        for (uint64 k = 0; k < last; ++k) {
            uint64 id = uint64((leaseSeed + k) % last) + 1;
            if (!_ghost[id].live || compute.leaseAccrual(id).reportablePeriods == 0) continue;
            _report(id, _watchers[watcherSeed % WATCHERS]);
            _count("reportMissed");
            return;
        }
    }

    /// @notice Anyone settles a lease.
    function settle(uint256 leaseSeed) external step {
        (uint64 id, IComputeMarket.Lease memory l) = _lease(leaseSeed);
        if (l.provider == address(0)) return;
        uint256 expected = compute.leaseAccrual(id).settleable;
        uint256 amount = compute.settleLease(id);
        if (amount != expected) _violation("settlement paid other than leaseAccrual.settleable");
        _ghost[id].paid += amount;
        _count("settle");
    }

    /// @notice Someone tops up a lease.
    function topUp(uint256 leaseSeed, uint256 payerSeed, uint256 amount) external step {
        (uint64 id, IComputeMarket.Lease memory l) = _lease(leaseSeed);
        if (l.provider == address(0)) return;
        address payer = _accounts[payerSeed % _accounts.length];
        amount = bound(amount, 1, 10 * HEARTBEAT * MAX_PRICE);
        _mint(payer, amount);
        vm.startPrank(payer);
        _token.approve(address(compute), amount);
        compute.topUp(id, amount);
        vm.stopPrank();
        _ghost[id].funded += amount;
        _count("topUp");
    }

    /// @notice The provider gives notice.
    function giveNotice(uint256 leaseSeed) external step {
        (uint64 id, IComputeMarket.Lease memory l) = _lease(leaseSeed);
        if (l.provider == address(0)) return;
        if (l.endsAt != 0 && block.timestamp + l.noticeWindow >= l.endsAt) return;
        vm.prank(l.provider);
        compute.giveNotice(id);
        _count("giveNotice");
    }

    /// @notice Someone closes a lease for a reason that applies (chosen by `reasonSeed` among those).
    function close(uint256 leaseSeed, uint256 reasonSeed, uint256 watcherSeed) external step {
        (uint64 id, IComputeMarket.Lease memory l) = _lease(leaseSeed);
        if (l.provider == address(0)) return;
        IComputeMarket.LeaseAccrual memory a = compute.leaseAccrual(id);
        IComputeMarket.CloseReason reason;
        address caller;
        uint256 choice = reasonSeed % 3;
        if (a.ended) {
            reason =
                l.noticeGiven
                    ? IComputeMarket.CloseReason.ProviderWithNotice
                    : IComputeMarket.CloseReason.Expired;
            caller = _watchers[watcherSeed % WATCHERS];
        } else if (a.overdrawn && choice == 0) {
            reason = IComputeMarket.CloseReason.InsufficientFunds;
            caller = _watchers[watcherSeed % WATCHERS];
        } else if (choice == 1) {
            reason = IComputeMarket.CloseReason.ProviderWithoutNotice;
            caller = l.provider;
        } else {
            reason = IComputeMarket.CloseReason.Tenant;
            caller = l.tenant;
        }
        uint256 before = compute.balanceOf(l.provider);
        address treasury = compute.treasury();
        uint256 treasuryBefore = compute.balanceOf(treasury);
        vm.prank(caller);
        compute.closeLease(id, reason);
        _closed(id, l, compute.balanceOf(l.provider) - before);
        // Only leaving without notice is penalised here: the treasury takes its share of the reserved penalty.
        uint256 toTreasury = compute.balanceOf(treasury) - treasuryBefore;
        uint256 expected =
            reason == IComputeMarket.CloseReason.ProviderWithoutNotice
                ? (a.reservedPenalty * TREASURY_BPS) / BPS
                : 0;
        if (toTreasury != expected) _violation("treasury share of a close != split");
        treasuryEarned += toTreasury;
        _count("close");
    }

    /// @notice An account withdraws its whole ledger balance.
    function withdraw(uint256 accountSeed) external step {
        address account = _accounts[accountSeed % _accounts.length];
        uint256 balance = compute.balanceOf(account);
        if (balance == 0) return;
        vm.prank(account);
        compute.withdraw(balance);
        if (account == TREASURY || account == TREASURY_2) treasuryWithdrawn += balance;
        if (compute.balanceOf(account) != 0) _violation("a withdrawal of the whole balance left some of it");
        _count("withdraw");
    }

    /// @notice Governance replaces the treasury with the other one: what the old one was owed (its credit in the
    ///         penalty terms' word included) stays its own, and the new one's balance does not change.
    function switchTreasury(uint256 seed) external step {
        address old = compute.treasury();
        address next = old == TREASURY ? TREASURY_2 : TREASURY;
        if (seed % 2 == 0 && compute.balanceOf(old) == 0) return;
        uint256 oldBefore = compute.balanceOf(old);
        uint256 nextBefore = compute.balanceOf(next);
        compute.setTreasury(next);
        if (compute.balanceOf(old) != oldBefore)
            _violation("replacing the treasury changed the old one's balance");
        if (compute.balanceOf(next) != nextBefore)
            _violation("replacing the treasury changed the new one's balance");
        _count("switchTreasury");
    }

    // ================================================================== views

    /// @notice The selectors the fuzzer may call.
    function actions() external pure returns (bytes4[] memory s) {
        s = new bytes4[](17);
        s[0] = this.stake.selector;
        s[1] = this.warp.selector;
        s[2] = this.postOrder.selector;
        s[3] = this.bid.selector;
        s[4] = this.withdrawBid.selector;
        s[5] = this.rejectBid.selector;
        s[6] = this.accept.selector;
        s[7] = this.endOrder.selector;
        s[8] = this.heartbeat.selector;
        s[9] = this.reportMissed.selector;
        s[10] = this.settle.selector;
        s[11] = this.topUp.selector;
        s[12] = this.giveNotice.selector;
        s[13] = this.close.selector;
        s[14] = this.withdraw.selector;
        s[15] = this.openLease.selector;
        s[16] = this.switchTreasury.selector;
    }

    /// @notice Providers of this handler (disjoint from the storage handler's).
    function providers() external view returns (address[] memory) {
        return _providers;
    }

    /// @notice Every account that can hold a compute ledger balance.
    function accounts() external view returns (address[] memory) {
        return _accounts;
    }

    /// @notice Both treasuries the market may have.
    function treasuries() external pure returns (address[2] memory) {
        return [TREASURY, TREASURY_2];
    }

    /// @notice Ghost record of lease `id`.
    function ghost(uint64 id) external view returns (GhostLease memory) {
        return _ghost[id];
    }

    /// @notice Last status the handler set for order `id`.
    function orderStatus(uint64 id) external view returns (IComputeMarket.OrderStatus) {
        return _orderStatus[id];
    }

    /// @notice Collateral the handler expects locked for `provider` (active bids and live leases).
    function expectedLocked(address provider) external view returns (uint256) {
        return _expectedLocked[provider];
    }

    /// @notice How often `action` did something.
    function calls(string calldata action) external view returns (uint256) {
        return _calls[keccak256(bytes(action))];
    }

    // ================================================================== internal

    function _report(uint64 id, address reporter) internal {
        IComputeMarket.Lease memory l = compute.getLease(id);
        uint256 before = compute.balanceOf(l.provider);
        uint256 reserved = compute.leaseAccrual(id).reservedPenalty;
        Balances memory b = _balances(l.tenant, reporter);
        vm.prank(reporter);
        uint256 bounty = compute.reportMissedHeartbeats(id);
        IComputeMarket.Lease memory a = compute.getLease(id);
        treasuryEarned += compute.balanceOf(b.treasury) - b.ofTreasury;
        if (a.provider != address(0)) {
            // The penalty left the collateral; the tenant's compensation went to its ledger balance, never to the
            // escrow (it must not cure an overdraft).
            uint256 penalty = l.collateral - a.collateral;
            _expectedLocked[l.provider] -= penalty;
            if (a.escrow != l.escrow) _violation("a report changed the escrow");
            if (a.collateral < reserved) _violation("a report took the reserved no-notice penalty");
            _checkReportSplit(b, penalty, bounty);
        } else {
            // The report reached the limit and closed the lease: all of its collateral left the locked total.
            uint256 credited = compute.balanceOf(l.provider) - before;
            if (reporter == l.provider) credited -= bounty;
            _closed(id, l, credited);
            _count("closeMissed");
        }
    }

    /// @dev Ledger balances of a report's parties before it.
    struct Balances {
        address treasury;
        address tenant;
        address reporter;
        uint256 ofTreasury;
        uint256 ofTenant;
        uint256 ofReporter;
    }

    function _balances(address tenant, address reporter) internal view returns (Balances memory b) {
        b.treasury = compute.treasury();
        b.tenant = tenant;
        b.reporter = reporter;
        b.ofTreasury = compute.balanceOf(b.treasury);
        b.ofTenant = compute.balanceOf(tenant);
        b.ofReporter = compute.balanceOf(reporter);
    }

    /// @dev A report's split, share by share: the treasury's (kept as its credit) and the reporter's rounded down,
    ///      the tenant the rest.
    function _checkReportSplit(Balances memory b, uint256 penalty, uint256 bounty) internal {
        uint256 toTreasury = (penalty * TREASURY_BPS) / BPS;
        uint256 toReporter = (penalty * REPORTER_BPS) / BPS;
        if (compute.balanceOf(b.treasury) - b.ofTreasury != toTreasury) _violation("treasury share != split");
        if (bounty != toReporter || compute.balanceOf(b.reporter) - b.ofReporter != toReporter) {
            _violation("reporter share != split");
        }
        uint256 toTenant = compute.balanceOf(b.tenant) - b.ofTenant;
        if (b.reporter != b.tenant && toTenant != penalty - toTreasury - toReporter) {
            _violation("tenant compensation != split");
        }
    }

    /// @dev Record a lease start.
    function _started(uint64 id, IComputeMarket.Order memory o) internal {
        _orderStatus[id] = IComputeMarket.OrderStatus.Filled;
        GhostLease storage g = _ghost[id];
        g.started = true;
        g.live = true;
        g.funded = o.deposit - o.closeBounty;
    }

    /// @dev Record a close: the final payment, and the lease's collateral leaving the expected locked total.
    function _closed(uint64 id, IComputeMarket.Lease memory l, uint256 finalPayment) internal {
        GhostLease storage g = _ghost[id];
        g.live = false;
        g.paid += finalPayment;
        _expectedLocked[l.provider] -= l.collateral;
        if (g.paid > g.funded) _violation("a lease paid its provider more than was funded");
    }

    /// @dev After every action: live leases' cursors and counters only move forward; bids and leases that
    ///      became collateral are tracked (an accepted bid's collateral moves to the lease unchanged).
    function _observe() internal {
        uint64 last = compute.lastOrderId();
        for (uint64 id = 1; id <= last; ++id) {
            GhostLease storage g = _ghost[id];
            if (!g.started) continue;
            IComputeMarket.Lease memory l = compute.getLease(id);
            if (!g.live) {
                if (l.provider != address(0)) _violation("a closed lease reappeared");
                continue;
            }
            if (l.nextPeriod < g.nextPeriod) _violation("nextPeriod decreased");
            if (l.paidSeconds < g.paidSeconds) _violation("paidSeconds decreased");
            if (l.missedSeconds < g.missedSeconds) _violation("missedSeconds decreased");
            g.nextPeriod = l.nextPeriod;
            g.paidSeconds = l.paidSeconds;
            g.missedSeconds = l.missedSeconds;
        }
    }

    /// @dev A provider with an active bid on order `id`, searching from the one picked by `seed` (or none).
    function _bidder(uint64 id, uint256 seed) internal view returns (address) {
        for (uint256 k = 0; k < PROVIDERS; ++k) {
            address p = _providers[(seed + k) % PROVIDERS];
            if (compute.getBid(id, p).status == IComputeMarket.BidStatus.Active) return p;
        }
        return address(0);
    }

    /// @dev An open, unexpired order, searching from the one picked by `seed` (id 0 if none).
    function _biddableOrder(uint256 seed) internal view returns (uint64 id, IComputeMarket.Order memory o) {
        uint64 last = compute.lastOrderId();
        for (uint64 k = 0; k < last; ++k) {
            id = uint64((seed + k) % last) + 1;
            o = compute.getOrder(id);
            if (o.status == IComputeMarket.OrderStatus.Open && block.timestamp < o.expiresAt) return (id, o);
        }
        return (0, o);
    }

    function _order(uint256 seed) internal view returns (uint64 id, IComputeMarket.Order memory o) {
        uint64 last = compute.lastOrderId();
        if (last == 0) return (0, o);
        id = uint64(seed % last) + 1;
        o = compute.getOrder(id);
    }

    /// @dev A live lease picked by `seed` (searching forward from it), or an empty one.
    function _lease(uint256 seed) internal view returns (uint64 id, IComputeMarket.Lease memory l) {
        uint64 last = compute.lastOrderId();
        for (uint64 k = 0; k < last; ++k) {
            id = uint64((seed + k) % last) + 1;
            if (_ghost[id].live) return (id, compute.getLease(id));
        }
        return (0, l);
    }

    function _mint(address to, uint256 amount) internal {
        vm.prank(_minter);
        _token.mint(to, amount);
    }

    function _count(string memory action) internal {
        ++_calls[keccak256(bytes(action))];
    }

    function _violation(string memory what) internal {
        ++violations;
        lastViolation = what;
    }
}
