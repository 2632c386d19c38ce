// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { DealSlot } from "./DealSlot.sol";
import { DealTerms } from "./DealTerms.sol";
import { FaultLog } from "./FaultLog.sol";
import { MerkleSha256 } from "./MerkleSha256.sol";
import { PackedDealList } from "./PackedDealList.sol";

/// @title ProvingLib
/// @notice Proof verification and fault declaration of the storage market, run in the market's context.
/// @dev Deployed and linked (public functions, DELEGATECALL) so the market stays under the 24 KiB limit.
///      Every storage reference passed in belongs to the calling market; `msg.sender` is the market's caller.
library ProvingLib {
    using FaultLog for FaultLog.Log;
    using PackedDealList for PackedDealList.List;

    /// @notice The period clock and proof parameters the checks need.
    /// @param periodEnd End timestamp of the period being proven.
    /// @param proofWindow Seconds before `periodEnd` in which the proof is accepted.
    /// @param challengeCount Challenges per proof.
    /// @param challengeFinality Blocks until the next seed block.
    /// @param seed The challenge seed of the period.
    struct ProofContext {
        uint256 periodEnd;
        uint256 proofWindow;
        uint256 challengeCount;
        uint256 challengeFinality;
        bytes32 seed;
    }

    /// @notice Verify `proofs` for the caller's `period` and advance its proving state.
    /// @param state The caller's proving state.
    /// @param list The caller's active deal list.
    /// @param deals All deal words.
    /// @param ctx Clock, parameters and seed.
    /// @param period Period proven.
    /// @param proofs One answer per challenge.
    function submitProof(
        IStorageMarket.ProviderProofState storage state,
        PackedDealList.List storage list,
        mapping(uint64 => uint256) storage deals,
        ProofContext memory ctx,
        uint32 period,
        IStorageMarket.ChallengeProof[] calldata proofs
    ) public {
        IStorageMarket.ProviderProofState memory st = state;
        if (st.activeDeals == 0) revert IStorageMarket.MarketNothingToProve(msg.sender);
        if (period != st.nextPeriod) revert IStorageMarket.MarketWrongPeriod(period, st.nextPeriod);
        uint256 opensAt = ctx.periodEnd - ctx.proofWindow;
        if (block.timestamp < opensAt || block.timestamp >= ctx.periodEnd) {
            revert IStorageMarket.MarketOutsideProofWindow(opensAt, ctx.periodEnd, block.timestamp);
        }
        if (proofs.length != ctx.challengeCount) {
            revert IStorageMarket.MarketWrongChallengeCount(proofs.length, ctx.challengeCount);
        }
        for (uint256 i = 0; i < ctx.challengeCount; ++i) {
            uint256 word = uint256(keccak256(abi.encode(ctx.seed, msg.sender, period, i)));
            uint64 dealId = list.at(challengedPosition(word, st.challengeable, st.activeDeals));
            _verifyChallenge(deals[dealId], i, word, dealId, period, proofs[i]);
        }
        uint64 nextSeedBlock = uint64(block.number + ctx.challengeFinality);
        // period < 2^32 - 1 in any realistic lifetime (periods are >= 60 s), so the increment cannot wrap.
        unchecked {
            state.nextPeriod = period + 1;
        }
        state.seedBlock = nextSeedBlock;
        state.challengeable = st.activeDeals;
        emit IStorageMarket.ProofSubmitted(msg.sender, period, nextSeedBlock);
    }

    /// @notice Declare the caller's `dealIds` faulty for its next period.
    /// @param state The caller's proving state.
    /// @param list The caller's active deal list.
    /// @param deals All deal words.
    /// @param currentPeriod The current period.
    /// @param dealIds Deals declared.
    function declareFaults(
        IStorageMarket.ProviderProofState storage state,
        PackedDealList.List storage list,
        mapping(uint64 => uint256) storage deals,
        uint256 currentPeriod,
        uint64[] calldata dealIds
    ) public {
        IStorageMarket.ProviderProofState memory st = state;
        if (st.nextPeriod < currentPeriod) {
            revert IStorageMarket.MarketUnresolvedPeriods(msg.sender, st.nextPeriod, currentPeriod);
        }
        if (block.number > st.seedBlock)
            revert IStorageMarket.MarketDeclarationClosed(st.seedBlock, block.number);
        uint32 period = st.nextPeriod;
        for (uint256 i = 0; i < dealIds.length; ++i) {
            uint64 id = dealIds[i];
            uint256 word = deals[id];
            uint256 index = DealSlot.index(word);
            if (word == 0 || index >= st.activeDeals || list.at(index) != id) {
                revert IStorageMarket.MarketNotProviderDeal(id, msg.sender);
            }
            DealSlot.State memory s = DealSlot.unpack(word);
            (bool declared, uint256 last) = DealSlot.lastDeclared(word);
            if (declared && last == period) revert IStorageMarket.MarketAlreadyDeclared(id, period);
            if (s.declaredFaults == type(uint8).max) revert IStorageMarket.MarketFaultLimitReached(id);
            // Checked just above: declaredFaults < 255; period + 1 fits because period < 2^32 - 1.
            unchecked {
                s.declaredFaults += 1;
                s.lastDeclaredPeriodPlusOne = period + 1;
            }
            deals[id] = DealSlot.pack(s);
            emit IStorageMarket.FaultDeclared(msg.sender, period, id);
        }
    }

    /// @notice Record every closed, unresolved period of a provider as missed and schedule a fresh seed.
    /// @param state The provider's proving state.
    /// @param log The provider's fault log.
    /// @param provider The provider.
    /// @param currentPeriod The current period.
    /// @param challengeFinality Blocks until the new seed block.
    /// @return from First missed period.
    /// @return count Number of missed periods.
    /// @return seedBlock The new seed block.
    function recordMissed(
        IStorageMarket.ProviderProofState storage state,
        FaultLog.Log storage log,
        address provider,
        uint256 currentPeriod,
        uint256 challengeFinality
    ) public returns (uint32 from, uint32 count, uint64 seedBlock) {
        IStorageMarket.ProviderProofState memory st = state;
        if (st.activeDeals == 0 || st.nextPeriod >= currentPeriod) {
            revert IStorageMarket.MarketNoMissedPeriods(provider, st.nextPeriod, currentPeriod);
        }
        from = st.nextPeriod;
        count = uint32(currentPeriod - from);
        log.record(from, count);
        seedBlock = uint64(block.number + challengeFinality);
        // Both are bounded by the number of periods elapsed, far below 2^32.
        unchecked {
            st.missedPeriods += count;
        }
        st.nextPeriod = uint32(currentPeriod);
        st.seedBlock = seedBlock;
        state.nextPeriod = st.nextPeriod;
        state.missedPeriods = st.missedPeriods;
        state.seedBlock = seedBlock;
        state.challengeable = st.activeDeals;
    }

    /// @notice Schedule a new seed block for the caller when its seed's hash is gone (once per period).
    /// @param state The caller's proving state.
    /// @param currentPeriod The current period.
    /// @param challengeFinality Blocks until the new seed block.
    /// @param seedReadable Whether the current seed block's hash can still be read or is not yet mined.
    function refreshSeed(
        IStorageMarket.ProviderProofState storage state,
        uint256 currentPeriod,
        uint256 challengeFinality,
        bool seedReadable
    ) public {
        if (state.activeDeals == 0) revert IStorageMarket.MarketNothingToProve(msg.sender);
        // A refresh is a second draw of the challenges: allow it only when the seed is truly gone, and at
        // most once per period, so a provider cannot re-roll its challenges at will.
        if (seedReadable || state.seedRefreshedPeriod == currentPeriod + 1) {
            revert IStorageMarket.MarketSeedRefreshNotAllowed(state.seedBlock);
        }
        uint64 seedBlock = uint64(block.number + challengeFinality);
        state.seedBlock = seedBlock;
        state.seedRefreshedPeriod = uint32(currentPeriod + 1);
        state.challengeable = state.activeDeals;
        emit IStorageMarket.ChallengeSeedScheduled(msg.sender, state.nextPeriod, seedBlock);
    }

    /// @notice The challenged deal ids and challenge words of a provider's period.
    /// @param list The provider's active deal list.
    /// @param seed The period's seed.
    /// @param provider The provider.
    /// @param period The period.
    /// @param challengeable Positions challenges draw from (the list length when the seed was scheduled).
    /// @param activeDeals Length of the list.
    /// @param count Number of challenges.
    /// @return dealIds Challenged deals.
    /// @return words Challenge words.
    function challenges(
        PackedDealList.List storage list,
        bytes32 seed,
        address provider,
        uint32 period,
        uint256 challengeable,
        uint256 activeDeals,
        uint256 count
    ) public view returns (uint64[] memory dealIds, uint256[] memory words) {
        dealIds = new uint64[](count);
        words = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 word = uint256(keccak256(abi.encode(seed, provider, period, i)));
            words[i] = word;
            dealIds[i] = list.at(challengedPosition(word, challengeable, activeDeals));
        }
    }

    /// @notice Position in the active list that challenge `word` selects: uniform over the positions that
    ///         existed when the seed was scheduled; positions vacated since (the list only shrinks by
    ///         swap-remove) wrap onto the current list.
    /// @param word The challenge word.
    /// @param challengeable List length when the seed was scheduled (0 = use the current length).
    /// @param activeDeals Current list length (> 0).
    /// @return position The selected position.
    function challengedPosition(
        uint256 word,
        uint256 challengeable,
        uint256 activeDeals
    ) internal pure returns (uint256 position) {
        uint256 n = challengeable == 0 ? activeDeals : challengeable;
        position = word % n;
        if (position >= activeDeals) position %= activeDeals;
    }

    function _verifyChallenge(
        uint256 dealWord,
        uint256 i,
        uint256 word,
        uint64 dealId,
        uint32 period,
        IStorageMarket.ChallengeProof calldata pr
    ) private view {
        (bool declared, uint256 last) = DealSlot.lastDeclared(dealWord);
        // A deal declared faulty for this period is already charged for it; its challenge needs no answer.
        if (declared && last == period) return;
        uint64 size = uint64(pr.meta);
        uint32 endPeriod = uint32(pr.meta >> 64);
        uint160 terms = DealTerms.termsHash(pr.root, size, endPeriod, pr.partiesHash);
        if (terms != DealSlot.termsHash(dealWord))
            revert IStorageMarket.MarketChallengeTermsMismatch(i, dealId);
        if (period >= endPeriod) revert IStorageMarket.MarketChallengedDealEnded(dealId, endPeriod);
        uint256 leaves = MerkleSha256.leafCount(size);
        uint256 depth = MerkleSha256.depthOf(leaves);
        if (pr.path.length != depth) revert IStorageMarket.MarketBadProofLength(i, pr.path.length, depth);
        uint256 leafIndex = (word >> 128) % leaves;
        if (MerkleSha256.computeRoot(pr.leaf[0], pr.leaf[1], leafIndex, pr.path) != pr.root) {
            revert IStorageMarket.MarketInvalidProof(i, dealId, leafIndex);
        }
    }
}
