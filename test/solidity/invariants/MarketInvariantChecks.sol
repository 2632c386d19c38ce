// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { TestBase } from "../utils/TestBase.sol";
import { ChallengeId, IRetrievalChallenges } from "../../../contracts/interfaces/IRetrievalChallenges.sol";
import { RetrievalHandler } from "./RetrievalHandler.sol";

/// @notice The storage-market and retrieval-challenge invariants, checked against a RetrievalHandler's (a
///         MarketHandler's) ghost state. Shared by the
///         invariant suite and the scripted handler test.
abstract contract MarketInvariantChecks is TestBase {
    uint256 internal constant PERIOD = 3_600;

    RetrievalHandler internal handler;
    IERC20 internal token;
    IProviderRegistry internal registry;
    IStorageMarket internal market;
    IRetrievalChallenges internal challenges;

    function _deployHandler() internal {
        handler = new RetrievalHandler();
        (address t, address r, address m) = handler.contracts();
        token = IERC20(t);
        registry = IProviderRegistry(r);
        market = IStorageMarket(m);
        challenges = IRetrievalChallenges(handler.retrievalChallenges());
    }

    /// @dev Challenge-contract token balance == all its ledger balances + the bonds of open challenges, exactly
    ///      (a bond is escrowed, credited to the provider, or credited back: never two of these, never none).
    function _checkBondsConserved() internal view {
        address[] memory accounts = handler.accounts();
        uint256 owed;
        for (uint256 i = 0; i < accounts.length; ++i) owed += challenges.balanceOf(accounts[i]);
        uint256 count = challenges.challengeCount();
        uint256 resolved;
        for (uint256 id = 1; id <= count; ++id) {
            IRetrievalChallenges.Challenge memory c = challenges.challengeOf(ChallengeId.wrap(id));
            if (c.status == IRetrievalChallenges.Status.Open) owed += c.bond;
            else resolved += c.bond;
            assertTrue(
                c.status == IRetrievalChallenges.Status.Open ||
                    ChallengeId.unwrap(challenges.openChallengeOf(c.dealId)) != id,
                "a resolved challenge is not its deal's open challenge"
            );
        }
        assertEq(resolved, handler.bondsPaid(), "every resolved bond was paid exactly once");
        assertEq(
            token.balanceOf(address(challenges)),
            owed,
            "challenge contract tokens == ledger balances + open bonds"
        );
    }

    /// @dev Market token balance + slashed tokens the registry owes it == all ledger balances + the unstreamed
    ///      escrow of live deals, exactly (slashes are credited at once, the tokens are collected on withdrawal).
    function _checkMarketSolvency() internal view {
        address[] memory accounts = handler.accounts();
        uint256 ledger;
        for (uint256 i = 0; i < accounts.length; ++i) ledger += market.balanceOf(accounts[i]);
        uint256 escrow;
        uint64 last = handler.lastDealId();
        for (uint64 id = 1; id <= last; ++id) {
            (IStorageMarket.Deal memory d, bool live, ) = handler.ghost(id);
            if (!live) continue;
            (, uint32 paidSeconds, , , ) = market.dealState(id);
            escrow +=
                uint256(d.pricePerSecond) * (uint256(d.endPeriod - d.startPeriod) * PERIOD) -
                uint256(d.pricePerSecond) * paidSeconds;
        }
        assertEq(
            token.balanceOf(address(market)) + registry.slashedOwedTo(address(market)),
            ledger + escrow,
            "market tokens + owed slashes == ledger + live escrow"
        );
    }

    /// @dev Registry token balance == sum over providers of free + locked + unbonding + slashed tokens owed to
    ///      the (only) market.
    function _checkRegistrySolvency() internal view {
        address[] memory providers = handler.providers();
        uint256 total;
        for (uint256 i = 0; i < providers.length; ++i) {
            IProviderRegistry.StakeInfo memory s = registry.stakeInfo(providers[i]);
            total += uint256(s.free) + s.locked + s.unbonding;
        }
        total += registry.slashedOwedTo(address(market));
        assertEq(token.balanceOf(address(registry)), total, "registry tokens == total stake + owed slashes");
    }

    /// @dev Each provider's locked stake == the collateral of its live deals in this market.
    function _checkLockedCollateral() internal view {
        address[] memory providers = handler.providers();
        for (uint256 i = 0; i < providers.length; ++i) {
            (, uint256 collateral) = handler.liveOf(providers[i]);
            assertEq(registry.stakeInfo(providers[i]).locked, collateral, "locked == live collateral");
        }
    }

    /// @dev No deal is ever paid more than price * duration; a live deal has been paid exactly
    ///      price * paidSeconds (every credit to the provider was recorded from DealSettled / the ending).
    function _checkPaymentsCapped() internal view {
        uint64 last = handler.lastDealId();
        for (uint64 id = 1; id <= last; ++id) {
            (IStorageMarket.Deal memory d, bool live, uint256 paid) = handler.ghost(id);
            uint256 duration = uint256(d.endPeriod - d.startPeriod) * PERIOD;
            assertLe(paid, uint256(d.pricePerSecond) * duration, "paid <= price * duration");
            if (live) {
                (, uint32 paidSeconds, , , ) = market.dealState(id);
                assertEq(paid, uint256(d.pricePerSecond) * paidSeconds, "paid == price * paidSeconds");
                assertLe(paidSeconds, duration, "paidSeconds <= duration");
            }
        }
    }

    /// @dev Ended deals stay gone, live deals keep their commitment and are charged exactly the reported missed
    ///      periods inside them, proving cursors and paid seconds only move forward, every action had its
    ///      expected outcome, and each provider's list holds exactly its live deals with consistent indexes.
    function _checkStateTransitions() internal view {
        if (handler.violations() != 0) revert AssertTrue(handler.lastViolation());
        uint64 last = handler.lastDealId();
        for (uint64 id = 1; id <= last; ++id) {
            (IStorageMarket.Deal memory d, bool live, ) = handler.ghost(id);
            (uint160 termsHash, , , , ) = market.dealState(id);
            if (!live) {
                assertEq(termsHash, 0, "an ended deal never reappears");
                continue;
            }
            assertTrue(termsHash != 0, "a live deal exists");
            // Reverts with MarketUnknownDeal if the stored commitment does not match the ghost terms.
            (uint256 missed, ) = market.dealFaults(d);
            uint256 next = market.proofState(d.provider).nextPeriod;
            assertEq(
                missed,
                handler.missedBetween(d.provider, d.startPeriod, d.endPeriod < next ? d.endPeriod : next),
                "missed periods charged == reported periods inside the deal"
            );
        }
        (uint256 nextId, , , , ) = market.dealState(last + 1);
        assertEq(nextId, 0, "no deal beyond the last published id");
        address[] memory providers = handler.providers();
        for (uint256 i = 0; i < providers.length; ++i) {
            address p = providers[i];
            IStorageMarket.ProviderProofState memory st = market.proofState(p);
            (uint256 count, ) = handler.liveOf(p);
            assertEq(st.activeDeals, count, "activeDeals == live deals of the provider");
            for (uint256 k = 0; k < st.activeDeals; ++k) {
                uint64 id = market.activeDealAt(p, k);
                (IStorageMarket.Deal memory d, bool live, ) = handler.ghost(id);
                assertTrue(live && d.provider == p, "listed deal is a live deal of the provider");
                (, , , , uint24 index) = market.dealState(id);
                assertEq(index, k, "stored index == list position");
            }
        }
    }

    /// @notice Every invariant (an external call, so that each check starts with fresh EVM memory).
    function checkAll() external view {
        _checkMarketSolvency();
        _checkRegistrySolvency();
        _checkLockedCollateral();
        _checkPaymentsCapped();
        _checkStateTransitions();
        _checkBondsConserved();
    }
}
