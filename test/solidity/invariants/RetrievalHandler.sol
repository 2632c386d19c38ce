// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ChallengeId, IRetrievalChallenges } from "../../../contracts/interfaces/IRetrievalChallenges.sol";
import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { RetrievalChallenges } from "../../../contracts/storage/RetrievalChallenges.sol";
import { MarketHandler } from "./MarketHandler.sol";

/// @notice MarketHandler plus retrieval challenges: watchers open bonded challenges on live deals, providers
///         answer some of them, and unanswered ones are enforced after their deadline (ending the deal as
///         RetrievalFailed, or voiding the challenge when the deal already ended another way).
/// @dev Pieces are single 64-byte leaves (see MarketHandler), so every challenge is of leaf 0 and its answer has
///      an empty path.
contract RetrievalHandler is MarketHandler {
    // One period: long enough that answers often land before time moves on, short enough for the 1..3-period deals.
    uint32 internal constant RESPONSE_WINDOW = uint32(PERIOD);
    uint128 internal constant BOND = uint128(5 * USDC);

    RetrievalChallenges internal rc;
    /// @notice Bonds credited in the challenge contract (to providers or back to challengers), per outcome.
    uint256 public bondsPaid;

    constructor() {
        rc = new RetrievalChallenges(
            market,
            address(this),
            1_000 * USDC,
            IRetrievalChallenges.Parameters({ responseWindow: RESPONSE_WINDOW, bond: BOND })
        );
        market.grantRole(market.RETRIEVAL_ROLE(), address(rc));
    }

    // ================================================================== actions

    /// @notice A watcher challenges a live deal that has room for a whole response window before its end
    ///         (bond from its ledger balance here if it has one, else freshly minted and approved).
    function openChallenge(uint256 dealSeed, uint256 watcherSeed) external step {
        uint64 id = _pickChallengeable(dealSeed);
        if (id == 0) return;
        address watcher = _watchers[watcherSeed % WATCHERS];
        if (rc.balanceOf(watcher) < BOND) {
            token.mint(watcher, BOND);
            vm.prank(watcher);
            token.approve(address(rc), BOND);
        }
        vm.prank(watcher);
        rc.openChallenge(_ghost[id].deal, 0);
        _count("openChallenge");
    }

    /// @notice The provider answers an open challenge on a live deal before its deadline.
    function answerChallenge(uint256 seed) external step {
        ChallengeId cid = _pickOpen(seed, true);
        if (ChallengeId.unwrap(cid) == 0) return;
        GhostDeal storage g = _ghost[rc.challengeOf(cid).dealId];
        bytes32[2] memory leaf = [g.lo, g.hi];
        vm.prank(g.deal.provider);
        rc.answerChallenge(cid, g.deal, leaf, new bytes32[](0));
        bondsPaid += BOND;
        _count("answerChallenge");
    }

    /// @notice Anyone enforces an open challenge once its deadline has passed (waiting for it if needed): the
    ///         deal ends as RetrievalFailed, or the challenge is voided if the deal already ended.
    function enforceChallenge(uint256 seed, uint256 callerSeed) external step {
        ChallengeId cid = _pickOpen(seed, false);
        if (ChallengeId.unwrap(cid) == 0) return;
        IRetrievalChallenges.Challenge memory c = rc.challengeOf(cid);
        if (block.timestamp <= c.deadline) {
            vm.warp(uint256(c.deadline) + 1);
            vm.roll(block.number + 1);
        }
        GhostDeal storage g = _ghost[c.dealId];
        address caller = _accounts[callerSeed % _accounts.length];
        bondsPaid += c.bond;
        if (!g.live) {
            vm.prank(caller);
            rc.enforceChallenge(cid, g.deal);
            _count("voidChallenge");
            return;
        }
        IStorageMarket.Deal memory d = g.deal;
        uint256 before = market.balanceOf(d.provider);
        vm.prank(caller);
        rc.enforceChallenge(cid, d);
        g.paid += market.balanceOf(d.provider) - before;
        g.live = false;
        _liveCount[d.provider] -= 1;
        _liveCollateral[d.provider] -= d.collateral;
        _count("enforceChallenge");
    }

    /// @notice An account with a balance in the challenge contract (the first from the one `accountSeed`
    ///         picks) withdraws part of it.
    function withdrawBond(uint256 accountSeed, uint256 amount) external step {
        uint256 n = _accounts.length;
        address account;
        uint256 balance;
        for (uint256 k = 0; k < n && balance == 0; ++k) {
            account = _accounts[(accountSeed + k) % n];
            balance = rc.balanceOf(account);
        }
        if (balance == 0) return;
        vm.prank(account);
        rc.withdraw(bound(amount, 1, balance));
        _count("withdrawBond");
    }

    // ================================================================== views for the invariants

    /// @inheritdoc MarketHandler
    function actions() external pure override returns (bytes4[] memory s) {
        bytes4[] memory base = _marketActions();
        s = new bytes4[](base.length + 4);
        for (uint256 i = 0; i < base.length; ++i) s[i] = base[i];
        s[base.length] = this.openChallenge.selector;
        s[base.length + 1] = this.answerChallenge.selector;
        s[base.length + 2] = this.enforceChallenge.selector;
        s[base.length + 3] = this.withdrawBond.selector;
    }

    /// @notice The retrieval-challenge contract.
    function retrievalChallenges() external view returns (address) {
        return address(rc);
    }

    // ================================================================== internal

    /// @dev A live deal without an open challenge whose end leaves a whole response window, or 0.
    function _pickChallengeable(uint256 seed) internal view returns (uint64) {
        uint256 n = _lastId;
        if (n == 0) return 0;
        uint256 start = seed % n;
        for (uint256 k = 0; k < n; ++k) {
            uint64 id = uint64(((start + k) % n) + 1);
            GhostDeal storage g = _ghost[id];
            if (!g.live || ChallengeId.unwrap(rc.openChallengeOf(id)) != 0) continue;
            if (block.timestamp + RESPONSE_WINDOW < market.periodStart(g.deal.endPeriod)) return id;
        }
        return 0;
    }

    /// @dev An open challenge (answerable now, on a live deal, if `answerable`), or 0.
    function _pickOpen(uint256 seed, bool answerable) internal view returns (ChallengeId) {
        uint256 n = rc.challengeCount();
        if (n == 0) return ChallengeId.wrap(0);
        uint256 start = seed % n;
        for (uint256 k = 0; k < n; ++k) {
            ChallengeId cid = ChallengeId.wrap(((start + k) % n) + 1);
            IRetrievalChallenges.Challenge memory c = rc.challengeOf(cid);
            if (c.status != IRetrievalChallenges.Status.Open) continue;
            if (!answerable || (_ghost[c.dealId].live && block.timestamp <= c.deadline)) return cid;
        }
        return ChallengeId.wrap(0);
    }
}
