// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { MarketFixture } from "../utils/MarketFixture.sol";

/// @notice Drives a StorageMarket, its ProviderRegistry and TestStablecoin with bounded random actions of
///         three providers, three clients and two watchers, and keeps ghost state of every deal.
/// @dev Every action checks its own preconditions and returns early when it cannot succeed, so almost every
///      call the fuzzer makes changes state. Pieces are exactly 64 bytes: the Merkle proof of a challenge is
///      the leaf itself and the root is sha256(leaf). Counters record what each action actually did.
contract MarketHandler is MarketFixture {
    uint256 internal constant PROVIDERS = 3;
    uint256 internal constant CLIENTS = 3;
    uint256 internal constant WATCHERS = 2;
    uint256 internal constant MAX_PERIODS = 3;
    uint256 internal constant MAX_FAULTS = 2;
    uint256 internal constant MAX_PRICE = 1_000;
    uint256 internal constant MAX_COLLATERAL = 50 * USDC;
    uint64 internal constant UNBONDING_DELAY = 3_600;
    address internal constant TREASURY = address(0x7EA5);

    /// @notice What the handler knows about a deal.
    struct GhostDeal {
        IStorageMarket.Deal deal;
        bytes32 lo;
        bytes32 hi;
        bool live;
        uint256 paid;
    }

    /// @notice Which live deal an action looks for.
    enum Want {
        Any,
        Settleable,
        Running,
        Finalizable,
        Faulty
    }

    /// @notice A run of consecutive missed periods.
    struct Run {
        uint32 start;
        uint32 length;
    }

    /// @notice The last proving state seen for a provider.
    struct Seen {
        uint32 nextPeriod;
        uint32 missedPeriods;
    }

    address[] internal _providers;
    address[] internal _clients;
    uint256[] internal _clientKeys;
    address[] internal _watchers;
    address[] internal _accounts;

    mapping(uint64 id => GhostDeal) internal _ghost;
    uint64 internal _lastId;
    mapping(address client => uint64) internal _nextNonce;
    mapping(address provider => uint256) internal _liveCount;
    mapping(address provider => uint256) internal _liveCollateral;
    mapping(address provider => Seen) internal _seen;
    mapping(bytes32 action => uint256) internal _calls;
    mapping(uint64 id => uint32) internal _seenPaidSeconds;
    /// @notice A provider's missed-period runs as reported (ghost of its FaultLog).
    mapping(address provider => Run[]) internal _runs;
    /// @notice Number of unexpected outcomes seen by the actions (a decrease of a provider's nextPeriod or
    ///         missedPeriods or of a live deal's paidSeconds, a batch not publishing every fresh proposal, a
    ///         settlement paying other than settleableAmount, with or without a fault-run hint).
    uint256 public violations;
    /// @notice What the last unexpected outcome was.
    string public lastViolation;

    constructor() {
        IStorageMarket.Parameters memory params = defaultParameters();
        // A low fault threshold lets short random runs reach fault terminations.
        params.maxFaults = uint8(MAX_FAULTS);
        deploySuite(params, TREASURY, UNBONDING_DELAY);
        for (uint256 i = 0; i < PROVIDERS; ++i) {
            address p = vm.addr(0x9000 + i);
            _providers.push(p);
            _accounts.push(p);
            registerProvider(p);
        }
        for (uint256 i = 0; i < CLIENTS; ++i) {
            uint256 key = 0xC000 + i;
            _clientKeys.push(key);
            _clients.push(vm.addr(key));
            _accounts.push(vm.addr(key));
        }
        for (uint256 i = 0; i < WATCHERS; ++i) {
            _watchers.push(vm.addr(0xE000 + i));
            _accounts.push(vm.addr(0xE000 + i));
        }
        _accounts.push(TREASURY);
        _accounts.push(address(this));
    }

    modifier step() {
        _;
        _observeProofStates();
    }

    // ================================================================== actions

    /// @notice A provider stakes more.
    function stake(uint256 providerSeed, uint256 amount) external step {
        stakeFor(_provider(providerSeed), bound(amount, 1, 500 * USDC));
        _count("stake");
    }

    /// @notice A client deposits into its ledger balance.
    function deposit(uint256 clientSeed, uint256 amount) external step {
        depositFor(_clients[clientSeed % CLIENTS], bound(amount, 1, 1_000 * USDC));
        _count("deposit");
    }

    /// @notice Time passes (up to two periods) and blocks are mined.
    function warp(uint256 secs, uint256 blocks) external step {
        vm.warp(block.timestamp + bound(secs, 1, 2 * PERIOD));
        vm.roll(block.number + bound(blocks, 1, 4));
        _count("warp");
    }

    /// @notice A provider publishes 1..3 signed proposals of 64-byte pieces (sometimes with a duplicate
    ///         nonce that must be skipped). Unresolved periods are reported first so publishing can proceed.
    function publish(uint256 providerSeed, uint256 clientSeed, uint256 n, uint256 seed) external step {
        address p = _provider(providerSeed);
        IStorageMarket.ProviderProofState memory st = market.proofState(p);
        uint256 current = market.currentPeriod();
        if (st.activeDeals > 0 && st.nextPeriod < current) _report(p, _watchers[seed % WATCHERS]);
        n = bound(n, 1, 3);
        bool duplicate = (seed >> 250) & 1 == 1;
        IStorageMarket.SignedProposal[] memory batch = new IStorageMarket.SignedProposal[](
            n + (duplicate ? 1 : 0)
        );
        uint256 collateral;
        for (uint256 k = 0; k < n; ++k) {
            batch[k] = _proposal(p, ((clientSeed % CLIENTS) + k) % CLIENTS, rand(seed, k));
            collateral += batch[k].proposal.collateral;
        }
        if (duplicate) batch[n] = batch[0];
        uint256 free = registry.stakeInfo(p).free;
        if (free < collateral) stakeFor(p, collateral - free);

        vm.prank(p);
        if (market.publishDeals(batch) != n) _violation("a fresh, funded proposal was not published");
        for (uint256 k = 0; k < n; ++k) {
            IStorageMarket.DealProposal memory prop = batch[k].proposal;
            uint64 id = ++_lastId;
            GhostDeal storage g = _ghost[id];
            g.deal = dealFromProposal(id, prop, current);
            (g.lo, g.hi) = _leafOf(prop.client, prop.nonce);
            g.live = true;
        }
        _liveCount[p] += n;
        _liveCollateral[p] += collateral;
        _count("publish");
        _count("published", n);
        if (duplicate) _count("skipped");
    }

    /// @notice A provider with deals proves its next 1..3 periods. Each time it has missed periods reported if
    ///         it is behind, moves into the proof window, mines the seed block, finalizes deals that have ended
    ///         (they cannot be challenged any more) and answers every challenge.
    function prove(uint256 providerSeed, uint256 periods) external step {
        address p = _providerWithDeals(providerSeed);
        periods = bound(periods, 1, 3);
        bool sweep = (providerSeed >> 8) & 1 == 1;
        for (uint256 k = 0; k < periods; ++k) {
            if (!_proveNext(p, _watchers[((providerSeed % WATCHERS) + k) % WATCHERS], sweep)) return;
        }
    }

    /// @notice A provider declares one of its deals faulty for its next period (while declarations are open).
    function declareFault(uint256 providerSeed, uint256 dealSeed) external step {
        address p = _providerWithDeals(providerSeed);
        IStorageMarket.ProviderProofState memory st = market.proofState(p);
        if (st.activeDeals == 0 || st.nextPeriod < market.currentPeriod() || block.number > st.seedBlock)
            return;
        uint64 id = market.activeDealAt(p, dealSeed % st.activeDeals);
        (, , uint8 declared, uint32 lastDeclaredPlusOne, ) = market.dealState(id);
        if (lastDeclaredPlusOne == uint256(st.nextPeriod) + 1 || declared == type(uint8).max) return;
        uint64[] memory ids = new uint64[](1);
        ids[0] = id;
        vm.prank(p);
        market.declareFaults(ids);
        _count("declare");
    }

    /// @notice Anyone (a watcher, or the provider itself) reports a provider's closed, unproven periods; a
    ///         watcher then terminates the provider's deals that reached the fault threshold.
    function reportMissed(uint256 providerSeed, uint256 reporterSeed) external step {
        address p = _providerWithDeals(providerSeed);
        IStorageMarket.ProviderProofState memory st = market.proofState(p);
        if (st.activeDeals == 0 || st.nextPeriod >= market.currentPeriod()) return;
        address reporter = reporterSeed % 3 == 0 ? p : _watchers[reporterSeed % WATCHERS];
        _report(p, reporter);
        if (reporter != p) _terminateFaultyDeals(p, reporter);
    }

    /// @notice A watcher settles a live deal (one with something to pay, if there is one), without a hint, with
    ///         the right fault-run hint or with an arbitrary one; each must pay exactly settleableAmount.
    function settle(uint256 dealSeed, uint256 hint) external step {
        uint64 id = _pickLive(dealSeed, Want.Settleable);
        if (id == 0) id = _pickLive(dealSeed, Want.Any);
        if (id == 0) return;
        IStorageMarket.Deal memory d = _ghost[id].deal;
        uint256 expected = market.settleableAmount(d);
        uint256 amount;
        vm.prank(_watchers[1]);
        if (hint % 3 == 0) {
            amount = market.settleDeal(d);
        } else {
            // A correct hint counts the runs that start at or before startPeriod - 1; any other only costs gas.
            if (hint % 3 == 1) hint = _runsStartingThrough(d.provider, uint256(d.startPeriod) - 1);
            amount = market.settleDealWithHint(d, hint);
            _count("settleWithHint");
        }
        if (amount != expected) _violation("settlement paid other than settleableAmount");
        _ghost[id].paid += amount;
        _count("settle");
        if (amount != 0) _count("settlePaid");
    }

    /// @notice The client or the provider terminates a live deal that has not reached its end period.
    function terminate(uint256 dealSeed, bool byClient) external step {
        uint64 id = _pickLive(dealSeed, Want.Running);
        if (id == 0) return;
        IStorageMarket.Deal memory d = _ghost[id].deal;
        if (byClient) _end(id, d.client, "terminateByClient");
        else _end(id, d.provider, "terminateByProvider");
    }

    /// @notice A watcher finalizes a live deal whose last period is resolved.
    function finalize(uint256 dealSeed) external step {
        uint64 id = _pickLive(dealSeed, Want.Finalizable);
        if (id == 0) return;
        _end(id, _watchers[0], "finalize");
    }

    /// @notice A watcher terminates a live deal that reached the fault threshold.
    function terminateFaulty(uint256 dealSeed, uint256 watcherSeed) external step {
        uint64 id = _pickLive(dealSeed, Want.Faulty);
        if (id == 0) return;
        _end(id, _watchers[watcherSeed % WATCHERS], "terminateFaulty");
    }

    /// @notice The provider extends a live deal by 1..3 periods with its client's signature.
    function extend(uint256 dealSeed, uint256 periods) external step {
        uint64 id = _pickLive(dealSeed, Want.Running);
        if (id == 0) return;
        GhostDeal storage g = _ghost[id];
        IStorageMarket.Deal memory d = g.deal;
        periods = bound(periods, 1, 3);
        IStorageMarket.DealExtension memory ext = IStorageMarket.DealExtension({
            dealId: id,
            newEndPeriod: uint32(d.endPeriod + periods),
            nonce: _nextNonce[d.client]++,
            deadline: uint64(block.timestamp + 600)
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keyOf(d.client), extensionDigest(ext));
        depositFor(d.client, uint256(d.pricePerSecond) * periods * PERIOD);
        vm.prank(d.provider);
        market.extendDeal(d, ext, abi.encodePacked(r, s, v));
        g.deal.endPeriod = ext.newEndPeriod;
        _count("extend");
    }

    /// @notice An account withdraws part of its ledger balance.
    function withdraw(uint256 accountSeed, uint256 amount) external step {
        address account = _accounts[accountSeed % (_accounts.length - 1)];
        uint256 balance = market.balanceOf(account);
        if (balance == 0) return;
        vm.prank(account);
        market.withdraw(bound(amount, 1, balance));
        _count("withdraw");
    }

    /// @notice A provider starts unbonding part of its free stake.
    function requestUnbond(uint256 providerSeed, uint256 amount) external step {
        address p = _provider(providerSeed);
        uint256 free = registry.stakeInfo(p).free;
        if (free == 0) return;
        vm.prank(p);
        registry.requestUnbond(bound(amount, 1, free));
        _count("requestUnbond");
    }

    /// @notice A provider with unbonding stake withdraws it (waiting out the delay if needed).
    function withdrawUnbonded(uint256 providerSeed) external step {
        address p = _provider(providerSeed);
        for (uint256 k = 0; k < PROVIDERS && registry.stakeInfo(p).unbonding == 0; ++k) {
            p = _providers[((providerSeed % PROVIDERS) + k + 1) % PROVIDERS];
        }
        IProviderRegistry.StakeInfo memory s = registry.stakeInfo(p);
        if (s.unbonding == 0) return;
        if (block.timestamp < s.unbondingReleaseAt) {
            vm.warp(s.unbondingReleaseAt);
            vm.roll(block.number + 1);
        }
        vm.prank(p);
        registry.withdrawUnbonded();
        _count("withdrawUnbonded");
    }

    // ================================================================== views for the invariants

    /// @notice The selectors of the actions above (the invariant fuzzer calls only these).
    function actions() external pure virtual returns (bytes4[] memory) {
        return _marketActions();
    }

    /// @dev The storage-market actions (extended handlers append theirs).
    function _marketActions() internal pure returns (bytes4[] memory s) {
        s = new bytes4[](18);
        s[0] = this.stake.selector;
        s[1] = this.deposit.selector;
        s[2] = this.warp.selector;
        s[3] = this.publish.selector;
        s[4] = this.prove.selector;
        s[5] = this.declareFault.selector;
        s[6] = this.reportMissed.selector;
        s[7] = this.settle.selector;
        s[8] = this.terminate.selector;
        s[9] = this.finalize.selector;
        s[10] = this.terminateFaulty.selector;
        s[11] = this.extend.selector;
        s[12] = this.withdraw.selector;
        s[13] = this.requestUnbond.selector;
        s[14] = this.withdrawUnbonded.selector;
        // Publishing, proving and time passing twice as often keep every run supplied with live deals.
        s[15] = this.publish.selector;
        s[16] = this.prove.selector;
        s[17] = this.warp.selector;
    }

    /// @notice How many times `action` did something.
    function calls(string calldata action) external view returns (uint256) {
        return _calls[keccak256(bytes(action))];
    }

    /// @notice Deployed contracts.
    function contracts()
        external
        view
        returns (address tokenAddress, address registryAddress, address marketAddress)
    {
        return (address(token), address(registry), address(market));
    }

    /// @notice The providers.
    function providers() external view returns (address[] memory) {
        return _providers;
    }

    /// @notice Every account that can hold a market ledger balance.
    function accounts() external view returns (address[] memory) {
        return _accounts;
    }

    /// @notice Highest deal id published so far.
    function lastDealId() external view returns (uint64) {
        return _lastId;
    }

    /// @notice Ghost record of deal `id`.
    function ghost(
        uint64 id
    ) external view returns (IStorageMarket.Deal memory deal, bool live, uint256 paid) {
        GhostDeal storage g = _ghost[id];
        return (g.deal, g.live, g.paid);
    }

    /// @notice Number of `provider`'s periods in [from, to) reported missed (from the ghost fault log).
    function missedBetween(
        address provider,
        uint256 from,
        uint256 to
    ) external view returns (uint256 missed) {
        Run[] storage runs = _runs[provider];
        for (uint256 k = 0; k < runs.length; ++k) {
            uint256 lo = runs[k].start > from ? runs[k].start : from;
            uint256 hi = uint256(runs[k].start) + runs[k].length;
            if (hi > to) hi = to;
            if (hi > lo) missed += hi - lo;
        }
    }

    /// @notice Number and total collateral of a provider's live deals.
    function liveOf(address provider) external view returns (uint256 count, uint256 collateral) {
        return (_liveCount[provider], _liveCollateral[provider]);
    }

    // ================================================================== internal

    function _provider(uint256 seed) internal view returns (address) {
        return _providers[seed % PROVIDERS];
    }

    /// @dev The first provider with active deals, starting from the one `seed` picks (that one if none has).
    function _providerWithDeals(uint256 seed) internal view returns (address) {
        for (uint256 k = 0; k < PROVIDERS; ++k) {
            address p = _providers[((seed % PROVIDERS) + k) % PROVIDERS];
            if (market.proofState(p).activeDeals != 0) return p;
        }
        return _provider(seed);
    }

    /// @dev Prove `p`'s next period (see `prove`); false when it has no deals left to prove.
    ///      With `sweep`, a reporter of missed periods also terminates the deals that reached the threshold.
    function _proveNext(address p, address reporter, bool sweep) internal returns (bool) {
        IStorageMarket.ProviderProofState memory st = market.proofState(p);
        if (st.activeDeals == 0) return false;
        if (st.nextPeriod < market.currentPeriod()) {
            // Closed periods were missed: have them reported (and maybe its faulty deals terminated), then
            // prove the current one.
            _report(p, reporter);
            if (sweep) _terminateFaultyDeals(p, reporter);
            st = market.proofState(p);
            if (st.activeDeals == 0) return false;
        }
        uint32 period = st.nextPeriod;
        uint256 opensAt = market.periodStart(uint256(period) + 1) - market.parameters().proofWindow;
        if (block.timestamp < opensAt) vm.warp(opensAt);
        if (block.number <= st.seedBlock) vm.roll(uint256(st.seedBlock) + 1);
        for (uint64 id = 1; id <= _lastId; ++id) {
            GhostDeal storage g = _ghost[id];
            if (g.live && g.deal.provider == p && g.deal.endPeriod <= period)
                _end(id, _watchers[0], "finalize");
        }
        if (market.proofState(p).activeDeals == 0) return false;

        (uint64[] memory ids, ) = market.challenges(p);
        IStorageMarket.ChallengeProof[] memory proofs = new IStorageMarket.ChallengeProof[](ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            (, , , uint32 lastDeclaredPlusOne, ) = market.dealState(ids[i]);
            GhostDeal storage g = _ghost[ids[i]];
            // A deal declared faulty for this period needs no answer: pass an empty entry.
            if (lastDeclaredPlusOne == uint256(period) + 1) proofs[i].path = new bytes32[](0);
            else proofs[i] = singleLeafProof(g.deal, g.lo, g.hi);
        }
        vm.prank(p);
        market.submitProof(period, proofs);
        _count("prove");
        return true;
    }

    function _keyOf(address client) internal view returns (uint256) {
        for (uint256 i = 0; i < CLIENTS; ++i) if (_clients[i] == client) return _clientKeys[i];
        revert AssertTrue("unknown client");
    }

    function _count(string memory action) internal {
        _count(action, 1);
    }

    function _count(string memory action, uint256 n) internal {
        _calls[keccak256(bytes(action))] += n;
    }

    /// @dev The 64-byte piece of a client's proposal `nonce`.
    function _leafOf(address client, uint64 nonce) internal pure returns (bytes32 lo, bytes32 hi) {
        lo = keccak256(abi.encode("lo", client, nonce));
        hi = keccak256(abi.encode("hi", client, nonce));
    }

    /// @dev A signed, funded proposal of client `c` to provider `p` (escrow from the ledger or an allowance).
    function _proposal(
        address p,
        uint256 c,
        uint256 r
    ) internal returns (IStorageMarket.SignedProposal memory signed) {
        address client = _clients[c];
        uint64 nonce = _nextNonce[client]++;
        (bytes32 lo, bytes32 hi) = _leafOf(client, nonce);
        uint256 periods = 1 + (r % MAX_PERIODS);
        uint256 price = 1 + ((r >> 16) % MAX_PRICE);
        IStorageMarket.DealProposal memory prop = IStorageMarket.DealProposal({
            client: client,
            provider: p,
            root: sha256(abi.encodePacked(lo, hi)),
            size: 64,
            duration: uint64(periods * PERIOD),
            pricePerSecond: uint128(price),
            // Zero collateral is allowed and exercised.
            collateral: uint128((r >> 32) % (MAX_COLLATERAL + 1)),
            startDeadline: uint64(block.timestamp + 600),
            nonce: nonce
        });
        uint256 escrow = price * periods * PERIOD;
        if ((r >> 128) & 1 == 1) {
            // Pulled from the allowance unless the ledger balance already covers it.
            token.mint(client, escrow);
            uint256 allowance = token.allowance(client, address(market));
            vm.prank(client);
            token.approve(address(market), allowance + escrow);
        } else {
            depositFor(client, escrow);
        }
        signed = IStorageMarket.SignedProposal(prop, signProposal(_clientKeys[c], prop));
    }

    function _report(address p, address reporter) internal {
        uint32 from = market.proofState(p).nextPeriod;
        uint32 count = uint32(market.currentPeriod() - from);
        vm.prank(reporter);
        market.reportMissedProofs(p);
        Run[] storage runs = _runs[p];
        uint256 n = runs.length;
        if (n != 0 && uint256(runs[n - 1].start) + runs[n - 1].length == from) runs[n - 1].length += count;
        else runs.push(Run(from, count));
        _count("report");
    }

    /// @dev Number of `p`'s missed-period runs that start at or before `period`.
    function _runsStartingThrough(address p, uint256 period) internal view returns (uint256 k) {
        Run[] storage runs = _runs[p];
        while (k < runs.length && runs[k].start <= period) ++k;
    }

    function _violation(string memory what) internal {
        ++violations;
        lastViolation = what;
    }

    /// @dev A live deal chosen by `seed`, or 0 when there is none.
    function _pickLive(uint256 seed, Want want) internal view returns (uint64) {
        uint256 n = _lastId;
        if (n == 0) return 0;
        uint256 start = seed % n;
        for (uint256 k = 0; k < n; ++k) {
            uint64 id = uint64(((start + k) % n) + 1);
            if (_ghost[id].live && _wanted(_ghost[id].deal, want)) return id;
        }
        return 0;
    }

    function _wanted(IStorageMarket.Deal memory d, Want want) internal view returns (bool) {
        if (want == Want.Any) return true;
        if (want == Want.Settleable) return market.settleableAmount(d) != 0;
        if (want == Want.Running) return market.currentPeriod() < d.endPeriod;
        if (want == Want.Finalizable) {
            return
                market.proofState(d.provider).nextPeriod >= d.endPeriod &&
                block.timestamp >= market.periodStart(d.endPeriod);
        }
        (uint256 missed, uint256 declared) = market.dealFaults(d);
        return missed + declared >= MAX_FAULTS;
    }

    /// @dev Terminate every live deal of `p` that reached the fault threshold, as `watcher`.
    function _terminateFaultyDeals(address p, address watcher) internal {
        for (uint64 id = 1; id <= _lastId; ++id) {
            GhostDeal storage g = _ghost[id];
            if (g.live && g.deal.provider == p && _wanted(g.deal, Want.Faulty))
                _end(id, watcher, "terminateFaulty");
        }
    }

    /// @dev End deal `id` as `caller`; the provider's ledger credit is the final payment.
    function _end(uint64 id, address caller, string memory how) internal {
        GhostDeal storage g = _ghost[id];
        IStorageMarket.Deal memory d = g.deal;
        uint256 before = market.balanceOf(d.provider);
        bytes32 h = keccak256(bytes(how));
        vm.prank(caller);
        if (h == keccak256("finalize")) market.finalizeDeal(d);
        else if (h == keccak256("terminateFaulty")) market.terminateFaultyDeal(d);
        else market.terminateDeal(d);
        g.paid += market.balanceOf(d.provider) - before;
        g.live = false;
        _liveCount[d.provider] -= 1;
        _liveCollateral[d.provider] -= d.collateral;
        _count(how);
    }

    /// @dev Record any decrease of a provider's nextPeriod or missedPeriods or of a live deal's paidSeconds,
    ///      then remember the new values.
    function _observeProofStates() internal {
        for (uint64 id = 1; id <= _lastId; ++id) {
            if (!_ghost[id].live) continue;
            (, uint32 paidSeconds, , , ) = market.dealState(id);
            if (paidSeconds < _seenPaidSeconds[id]) _violation("paidSeconds decreased");
            _seenPaidSeconds[id] = paidSeconds;
        }
        for (uint256 i = 0; i < PROVIDERS; ++i) {
            address p = _providers[i];
            IStorageMarket.ProviderProofState memory st = market.proofState(p);
            Seen storage seen = _seen[p];
            if (st.nextPeriod < seen.nextPeriod) _violation("nextPeriod decreased");
            if (st.missedPeriods < seen.missedPeriods) _violation("missedPeriods decreased");
            seen.nextPeriod = st.nextPeriod;
            seen.missedPeriods = st.missedPeriods;
        }
    }
}
