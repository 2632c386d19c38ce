// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IComputeMarket } from "../../../contracts/interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { TestBase } from "../utils/TestBase.sol";
import { ComputeHandler } from "./ComputeHandler.sol";

/// @notice The compute market's invariants over a ComputeHandler: conservation of its tokens, collateral locked
///         = Σ active bids and live leases, and legal lease accounting and state transitions.
abstract contract ComputeInvariantChecks is TestBase {
    ComputeHandler internal computeHandler;
    IComputeMarket internal compute;
    IProviderRegistry internal computeRegistry;
    TestStablecoin internal computeToken;

    /// @dev Compute-market tokens + slashed tokens the registry owes it == all its ledger balances + deposits of
    ///      open orders + escrow and close bounty buffer of live leases, exactly.
    function _checkComputeSolvency() internal view {
        assertEq(
            computeToken.balanceOf(address(compute)) + computeRegistry.slashedOwedTo(address(compute)),
            _computeOwed(),
            "compute tokens + owed slashes == ledger + open deposits + live escrow and buffers"
        );
    }

    /// @dev What the treasuries can withdraw plus what they withdrew == every treasury share credited so far: the
    ///      credit kept in the penalty terms' word is neither lost nor counted twice, across withdrawals and
    ///      treasury changes.
    function _checkTreasuryShares() internal view {
        address[2] memory t = computeHandler.treasuries();
        assertEq(
            compute.balanceOf(t[0]) + compute.balanceOf(t[1]) + computeHandler.treasuryWithdrawn(),
            computeHandler.treasuryEarned(),
            "treasury balances + withdrawals == treasury shares"
        );
    }

    /// @dev Each compute provider's locked stake == the collateral of its active bids and live leases.
    function _checkComputeCollateral() internal view {
        address[] memory providers = computeHandler.providers();
        for (uint256 i = 0; i < providers.length; ++i) {
            assertEq(
                computeRegistry.stakeInfo(providers[i]).locked,
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

    /// @dev Stake held for the compute providers (free + locked + unbonding).
    function _computeStake() internal view returns (uint256 total) {
        address[] memory providers = computeHandler.providers();
        for (uint256 i = 0; i < providers.length; ++i) total += _stakeOf(providers[i]);
    }

    function _stakeOf(address provider) internal view returns (uint256) {
        IProviderRegistry.StakeInfo memory s = computeRegistry.stakeInfo(provider);
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

    /// @dev One compute action picked and parameterised by `r`, as the fuzzer would.
    function _computeAct(uint256 r) internal {
        uint256 a = rand(r, 1);
        uint256 b = rand(r, 2);
        uint256 c = rand(r, 3);
        uint256 action = r % 22;
        if (action == 0) computeHandler.stake(a, b);
        else if (action == 1 || action == 16) computeHandler.warp(a);
        else if (action == 2 || action == 17) computeHandler.postOrder(a, b, c, rand(r, 4));
        else if (action == 3 || action == 18) computeHandler.bid(a, b, c, rand(r, 4));
        else if (action == 4) computeHandler.withdrawBid(a, b);
        else if (action == 5) computeHandler.rejectBid(a, b);
        else if (action == 6 || action == 19) computeHandler.accept(a, b);
        else if (action == 7) computeHandler.endOrder(a, b % 2 == 0);
        else if (action == 8 || action == 20) computeHandler.heartbeat(a);
        else if (action == 9) computeHandler.reportMissed(a, b);
        else if (action == 10) computeHandler.settle(a);
        else if (action == 11) computeHandler.topUp(a, b, c);
        else if (action == 12) computeHandler.giveNotice(a);
        else if (action == 13) computeHandler.close(a, b, c);
        else if (action == 14) computeHandler.withdraw(a);
        else if (action == 21 && b % 3 == 0) computeHandler.switchTreasury(a);
        else computeHandler.openLease(a, b, c, rand(r, 4));
    }
}
