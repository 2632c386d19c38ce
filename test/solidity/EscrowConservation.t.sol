// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../contracts/interfaces/IStorageMarket.sol";
import { MarketFixture } from "./utils/MarketFixture.sol";

/// @notice Ending a deal never pays out more than its escrow (SPEC §6, §9 and §13.1), also when faults are
///         declared after the deal was settled, and a declaration is charged only once its period is resolved
///         and lies inside the deal (SPEC §8.1).
contract EscrowConservationTest is MarketFixture {
    uint256 internal constant PROVIDER_KEY = 0xB0B;
    uint256 internal constant CLIENT_KEY = 0xC11E;
    uint128 internal constant PRICE = 100;
    uint128 internal constant COLLATERAL = 10 * uint128(USDC);
    uint256 internal constant STAKE = 1_000 * USDC;
    uint256 internal constant DEPOSIT = 1_000 * USDC;
    address internal constant TREASURY = address(0x7EA5);

    address internal provider;
    address internal client;
    uint64 internal nonce;

    function setUp() public {
        deploySuite(defaultParameters(), TREASURY, 86_400);
        provider = vm.addr(PROVIDER_KEY);
        client = vm.addr(CLIENT_KEY);
        registerProvider(provider);
        stakeFor(provider, STAKE);
        depositFor(client, DEPOSIT);
    }

    /// @notice Prove, settle, terminate: the provider keeps what it was paid, the client gets the rest back.
    function test_terminateAfterSettlementPaysOutExactlyTheEscrow() public {
        (IStorageMarket.Deal memory d, bytes32 lo, bytes32 hi) = _publish(2);
        _proveNextPeriod(d, lo, hi);
        vm.prank(provider);
        uint256 paid = market.settleDeal(d);
        assertEq(paid, uint256(PRICE) * 1_800, "half of the first period");
        vm.prank(client);
        market.terminateDeal(d);
        _assertEnded(d, paid, 0);
    }

    /// @notice A fault declared for the next period right after settling, then the client terminates before
    ///         that period: the refund excludes the seconds already paid and the declaration is not charged.
    ///         (Before the fix: net fell to 0, the client was refunded the full 720,000 escrow while the
    ///         provider kept 180,000: 900,000 credited for 720,000 escrowed.)
    function test_declaredFaultAfterSettlementIsNotRefundedTwice() public {
        (IStorageMarket.Deal memory d, bytes32 lo, bytes32 hi) = _publish(2);
        _proveNextPeriod(d, lo, hi);
        vm.prank(provider);
        uint256 paid = market.settleDeal(d);
        assertEq(paid, uint256(PRICE) * 1_800, "half of the first period");
        _declare(d.id);
        assertEq(market.settleableAmount(d), 0, "nothing more to settle");
        vm.prank(client);
        market.terminateDeal(d);
        _assertEnded(d, paid, 0);
    }

    /// @notice A fault declared for the period after a fully proven and settled deal's end, before it is
    ///         finalized, is never charged. (Before the fix: finalize refunded the full 360,000 escrow while the
    ///         provider kept 360,000.)
    function test_declaredFaultPastTheEndIsNotCharged() public {
        (IStorageMarket.Deal memory d, bytes32 lo, bytes32 hi) = _publish(1);
        _proveNextPeriod(d, lo, hi);
        // The declaration window is still open (no block mined): the deal's only period is over, settle it.
        vm.warp(market.periodStart(d.endPeriod));
        vm.prank(provider);
        assertEq(market.settleDeal(d), uint256(PRICE) * PERIOD, "whole deal paid");
        _declare(d.id);
        (uint256 missed, uint256 declared) = market.dealFaults(d);
        assertEq(missed + declared, 0, "a declaration past the end is not charged");
        market.finalizeDeal(d);
        _assertEnded(d, uint256(PRICE) * PERIOD, 0);
    }

    /// @notice A period both declared and then missed is charged twice, which takes net below the seconds
    ///         already paid: those stay paid and are not refunded (refund = escrow - price * max(net, paid)).
    function test_periodDeclaredAndMissedDoesNotRefundPaidSeconds() public {
        (IStorageMarket.Deal memory d, bytes32 lo, bytes32 hi) = _publish(3);
        _proveNextPeriod(d, lo, hi);
        vm.warp(market.periodStart(uint256(d.startPeriod) + 1));
        vm.prank(provider);
        uint256 paid = market.settleDeal(d);
        assertEq(paid, uint256(PRICE) * PERIOD, "first period paid");
        _declare(d.id);
        // The declared period is not proven either; the provider reports it itself (no bounty).
        vm.warp(market.periodStart(uint256(d.startPeriod) + 2) + 1);
        vm.prank(provider);
        market.reportMissedProofs(provider);
        (uint256 missed, uint256 declared) = market.dealFaults(d);
        assertEq(missed, 1, "missed");
        assertEq(declared, 1, "declared");
        assertEq(market.settleableAmount(d), 0, "net (0) is below the paid seconds: nothing to settle");
        vm.prank(client);
        market.terminateDeal(d);
        // Penalty: 1 missed x 10 % + 1 declared x 5 % of the collateral.
        _assertEnded(d, paid, (uint256(COLLATERAL) * 1_500) / 10_000);
    }

    /// @notice A fault declared for a period before the deal starts (the provider's next period when the deal
    ///         was published) is not charged: that period does not lie inside the deal.
    function test_declaredFaultBeforeTheDealStartsIsNotCharged() public {
        // A first deal keeps the provider's proving cursor on the current period.
        (IStorageMarket.Deal memory first, bytes32 lo1, bytes32 hi1) = _publish(3);
        _proveNextPeriod(first, lo1, hi1);
        // Next period starts; its seed block is not mined yet, so declarations for it are still open.
        vm.warp(market.periodStart(uint256(first.startPeriod) + 1));
        (IStorageMarket.Deal memory second, bytes32 lo2, bytes32 hi2) = _publish(1);
        assertEq(market.proofState(provider).nextPeriod, second.startPeriod - 1, "cursor before the deal");
        _declare(second.id);
        // Prove the period before the second deal, then its only period (both deals are challengeable).
        _proveNextPeriod(first, lo1, hi1);
        _proveNextPeriodOfBoth(first, lo1, hi1, second, lo2, hi2);
        vm.warp(market.periodStart(second.endPeriod));
        (uint256 missed, uint256 declared) = market.dealFaults(second);
        assertEq(missed + declared, 0, "a declaration before the start is not charged");
        market.finalizeDeal(second);
        assertEq(market.balanceOf(provider), uint256(PRICE) * PERIOD, "the proven period is paid in full");
    }

    // ------------------------------------------------------------------ helpers

    function _publish(
        uint256 periods
    ) internal returns (IStorageMarket.Deal memory d, bytes32 lo, bytes32 hi) {
        ++nonce;
        lo = keccak256(abi.encode("lo", nonce));
        hi = keccak256(abi.encode("hi", nonce));
        IStorageMarket.DealProposal memory prop = IStorageMarket.DealProposal({
            client: client,
            provider: provider,
            root: sha256(abi.encodePacked(lo, hi)),
            size: 64,
            duration: uint64(periods * PERIOD),
            pricePerSecond: PRICE,
            collateral: COLLATERAL,
            startDeadline: uint64(block.timestamp + 600),
            nonce: nonce
        });
        IStorageMarket.SignedProposal[] memory batch = new IStorageMarket.SignedProposal[](1);
        batch[0] = IStorageMarket.SignedProposal(prop, signProposal(CLIENT_KEY, prop));
        uint256 current = market.currentPeriod();
        vm.prank(provider);
        market.publishDeals(batch);
        d = dealFromProposal(nonce, prop, current);
    }

    /// @dev Prove the provider's next period in the middle of its proof window; every challenge hits `d`.
    function _proveNextPeriod(IStorageMarket.Deal memory d, bytes32 lo, bytes32 hi) internal {
        _proveNextPeriodOfBoth(d, lo, hi, d, lo, hi);
    }

    /// @dev Prove the provider's next period, answering challenges on `a` or `b`.
    function _proveNextPeriodOfBoth(
        IStorageMarket.Deal memory a,
        bytes32 loA,
        bytes32 hiA,
        IStorageMarket.Deal memory b,
        bytes32 loB,
        bytes32 hiB
    ) internal {
        IStorageMarket.ProviderProofState memory st = market.proofState(provider);
        vm.warp(market.periodStart(uint256(st.nextPeriod) + 1) - 1_800);
        vm.roll(uint256(st.seedBlock) + 1);
        (uint64[] memory ids, ) = market.challenges(provider);
        IStorageMarket.ChallengeProof[] memory proofs = new IStorageMarket.ChallengeProof[](ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            (, , , uint32 lastDeclaredPlusOne, ) = market.dealState(ids[i]);
            if (lastDeclaredPlusOne == uint256(st.nextPeriod) + 1) proofs[i].path = new bytes32[](0);
            else if (ids[i] == a.id) proofs[i] = singleLeafProof(a, loA, hiA);
            else proofs[i] = singleLeafProof(b, loB, hiB);
        }
        vm.prank(provider);
        market.submitProof(st.nextPeriod, proofs);
    }

    function _declare(uint64 id) internal {
        uint64[] memory ids = new uint64[](1);
        ids[0] = id;
        vm.prank(provider);
        market.declareFaults(ids);
    }

    /// @dev The only deal `d` has ended: the provider was credited `paid`, the client the rest of the escrow
    ///      plus the penalty minus the treasury share; the market holds exactly the ledger balances; the
    ///      collateral minus the penalty was released.
    function _assertEnded(IStorageMarket.Deal memory d, uint256 paid, uint256 penalty) internal view {
        uint256 escrow = uint256(d.pricePerSecond) * (d.endPeriod - d.startPeriod) * PERIOD;
        uint256 toTreasury = (penalty * defaultParameters().treasuryShareBps) / 10_000;
        (uint160 termsHash, , , , ) = market.dealState(d.id);
        assertEq(termsHash, 0, "deal removed");
        assertEq(market.balanceOf(provider), paid, "provider keeps what it was paid");
        assertEq(
            market.balanceOf(client),
            DEPOSIT - paid + penalty - toTreasury,
            "client: rest of escrow + penalty"
        );
        assertEq(market.balanceOf(TREASURY), toTreasury, "treasury share");
        assertLe(paid, escrow, "paid <= escrow");
        assertEq(
            token.balanceOf(address(market)) + registry.slashedOwedTo(address(market)),
            market.balanceOf(provider) + market.balanceOf(client) + market.balanceOf(TREASURY),
            "market holds exactly the ledger balances"
        );
        assertEq(registry.stakeInfo(provider).locked, 0, "collateral unlocked");
        assertEq(registry.stakeInfo(provider).free, STAKE - penalty, "stake back minus the penalty");
    }
}
