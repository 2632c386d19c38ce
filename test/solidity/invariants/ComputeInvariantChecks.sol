// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { IComputeMarket } from "../../../contracts/interfaces/IComputeMarket.sol";
import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { ChallengeId, IRetrievalChallenges } from "../../../contracts/interfaces/IRetrievalChallenges.sol";
import { ProviderRegistry } from "../../../contracts/registry/ProviderRegistry.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { ComputeHandler } from "./ComputeHandler.sol";
import { MarketInvariantChecks } from "./MarketInvariantChecks.sol";

/// @notice The storage market (with retrieval challenges) and the compute market on one registry and token,
///         driven by a RetrievalHandler and a ComputeHandler, with invariants over both: funds conservation of
///         each contract and of the whole system, collateral accounting, and legal lease state transitions.
abstract contract ComputeInvariantChecks is MarketInvariantChecks {
    ComputeHandler internal computeHandler;
    IComputeMarket internal compute;

    /// @dev Deploy both handlers on one registry; the storage handler (the registry's admin) grants the compute
    ///      market MARKET_ROLE.
    function _deployHandlers() internal {
        _deployHandler();
        ProviderRegistry reg = ProviderRegistry(address(registry));
        computeHandler = new ComputeHandler(TestStablecoin(address(token)), reg, address(handler));
        compute = IComputeMarket(address(computeHandler.compute()));
        bytes32 marketRole = reg.MARKET_ROLE();
        vm.prank(address(handler));
        reg.grantRole(marketRole, address(compute));
    }

    /// @dev Compute-market tokens + slashed tokens the registry owes it == all its ledger balances + deposits of
    ///      open orders + escrow and close bounty buffer of live leases, exactly.
    function _checkComputeSolvency() internal view {
        assertEq(
            token.balanceOf(address(compute)) + registry.slashedOwedTo(address(compute)),
            _computeOwed(),
            "compute tokens + owed slashes == ledger + open deposits + live escrow and buffers"
        );
    }

    /// @dev Registry tokens == the stake of every provider of both markets + slashed tokens owed to each market.
    function _checkSharedRegistrySolvency() internal view {
        assertEq(
            token.balanceOf(address(registry)),
            _totalStake() +
                registry.slashedOwedTo(address(market)) +
                registry.slashedOwedTo(address(compute)),
            "registry tokens == stake of both markets' providers + owed slashes"
        );
    }

    /// @dev Every token held by the system (registry, storage market, retrieval challenges, compute market) is
    ///      owed to someone: stake, ledger balances, live escrows, open deposits, buffers and bonds. Slashed tokens
    ///      cancel out (held by the registry, credited in a market's ledger).
    function _checkSystemFundsConserved() internal view {
        uint256 held =
            token.balanceOf(address(registry)) +
                token.balanceOf(address(market)) +
                token.balanceOf(address(challenges)) +
                token.balanceOf(address(compute));
        assertEq(
            held,
            _totalStake() + _storageOwed() + _bondsOwed() + _computeOwed(),
            "system tokens == stake + storage ledger and escrow + bonds + compute ledger, deposits and escrow"
        );
    }

    /// @dev Each compute provider's locked stake == the collateral of its active bids and live leases.
    function _checkComputeCollateral() internal view {
        address[] memory providers = computeHandler.providers();
        for (uint256 i = 0; i < providers.length; ++i) {
            assertEq(
                registry.stakeInfo(providers[i]).locked,
                computeHandler.expectedLocked(providers[i]),
                "locked == active bids + live lease collateral"
            );
        }
    }

    /// @dev Live leases: every credit to the provider was price * paidSeconds, the escrow is what was funded
    ///      minus what was paid, paid and missed time never exceed the elapsed lease time, and the heartbeat
    ///      cursor is at most one period ahead. Closed leases stay gone; orders only move from Open once.
    function _checkLeaseTransitions() internal view {
        if (computeHandler.violations() != 0) revert AssertTrue(computeHandler.lastViolation());
        uint64 last = compute.lastOrderId();
        for (uint64 id = 1; id <= last; ++id) {
            IComputeMarket.Order memory o = compute.getOrder(id);
            assertEq(
                uint256(o.status),
                uint256(computeHandler.orderStatus(id)),
                "order status as the handler set it"
            );
            ComputeHandler.GhostLease memory g = computeHandler.ghost(id);
            IComputeMarket.Lease memory l = compute.getLease(id);
            if (!g.live) {
                assertTrue(l.provider == address(0), "no lease without a live ghost");
                continue;
            }
            assertTrue(o.status == IComputeMarket.OrderStatus.Filled, "a live lease's order is filled");
            assertEq(g.paid, uint256(l.pricePerSecond) * l.paidSeconds, "paid == price * paidSeconds");
            assertEq(l.escrow, g.funded - g.paid, "escrow == funded - paid");
            uint256 end = block.timestamp;
            if (l.endsAt != 0 && l.endsAt < end) end = l.endsAt;
            assertLe(uint256(l.paidSeconds) + l.missedSeconds, end - l.startedAt, "paid + missed <= elapsed");
            assertLe(
                l.nextPeriod,
                (block.timestamp - l.startedAt) / l.heartbeatPeriod + 1,
                "cursor <= current + 1"
            );
            assertLe(
                l.missedHeartbeats,
                uint256(l.maxMissedHeartbeats) - 1,
                "a live lease is under its limit"
            );
        }
    }

    // ------------------------------------------------------------------ sums

    function _totalStake() internal view returns (uint256 total) {
        address[] memory storageProviders = handler.providers();
        address[] memory computeProviders = computeHandler.providers();
        for (uint256 i = 0; i < storageProviders.length; ++i) total += _stakeOf(storageProviders[i]);
        for (uint256 i = 0; i < computeProviders.length; ++i) total += _stakeOf(computeProviders[i]);
    }

    function _stakeOf(address provider) internal view returns (uint256) {
        IProviderRegistry.StakeInfo memory s = registry.stakeInfo(provider);
        return uint256(s.free) + s.locked + s.unbonding;
    }

    function _computeOwed() internal view returns (uint256 owed) {
        address[] memory accounts = computeHandler.accounts();
        for (uint256 i = 0; i < accounts.length; ++i) owed += compute.balanceOf(accounts[i]);
        uint64 last = compute.lastOrderId();
        for (uint64 id = 1; id <= last; ++id) {
            IComputeMarket.Order memory o = compute.getOrder(id);
            if (o.status == IComputeMarket.OrderStatus.Open) owed += o.deposit;
            IComputeMarket.Lease memory l = compute.getLease(id);
            owed += uint256(l.escrow) + l.closeBounty;
        }
    }

    function _storageOwed() internal view returns (uint256 owed) {
        address[] memory accounts = handler.accounts();
        for (uint256 i = 0; i < accounts.length; ++i) owed += market.balanceOf(accounts[i]);
        uint64 last = handler.lastDealId();
        for (uint64 id = 1; id <= last; ++id) {
            (IStorageMarket.Deal memory d, bool live, ) = handler.ghost(id);
            if (!live) continue;
            (, uint32 paidSeconds, , , ) = market.dealState(id);
            owed += uint256(d.pricePerSecond) * (uint256(d.endPeriod - d.startPeriod) * PERIOD - paidSeconds);
        }
    }

    function _bondsOwed() internal view returns (uint256 owed) {
        address[] memory accounts = handler.accounts();
        for (uint256 i = 0; i < accounts.length; ++i) owed += challenges.balanceOf(accounts[i]);
        uint256 count = challenges.challengeCount();
        for (uint256 id = 1; id <= count; ++id) {
            IRetrievalChallenges.Challenge memory c = challenges.challengeOf(ChallengeId.wrap(id));
            if (c.status == IRetrievalChallenges.Status.Open) owed += c.bond;
        }
    }

    /// @notice Every invariant of both markets (an external call, so that each check starts with fresh memory).
    function checkAllWithCompute() external view {
        _checkMarketSolvency();
        _checkLockedCollateral();
        _checkPaymentsCapped();
        _checkStateTransitions();
        _checkBondsConserved();
        _checkComputeSolvency();
        _checkSharedRegistrySolvency();
        _checkSystemFundsConserved();
        _checkComputeCollateral();
        _checkLeaseTransitions();
    }
}
