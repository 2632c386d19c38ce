// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { DataSetAccrual } from "./DataSetAccrual.sol";
import { DataSetMath } from "./DataSetMath.sol";
import { DrawClasses } from "./DrawClasses.sol";
import { FaultLog } from "./FaultLog.sol";
import { MarketLayout } from "./MarketLayout.sol";
import { Versioned } from "./Versioned.sol";

/// @title ProviderEpochs
/// @notice The epoch rule (docs/SPEC.md §7.3): a provider's epoch N is its next unresolved period; every change
///         to what it must prove made during N is written copy-on-write (`Versioned`) and applies from N + 1.
///         Draw classes (`DrawClasses`): per provider and draw class k a dense slot array of data set ids and a count;
///         a data set of span s sits in draw class `DrawClasses.classOf(s)` (size class `ceil(log2 s)`, its eighth);
///         removal moves the last slot into the hole.
/// @dev Deployed and linked (public functions, DELEGATECALL) so the market stays under the 24 KiB limit.
library ProviderEpochs {
    using FaultLog for FaultLog.Log;

    /// @notice Resolve the provider's closed periods (as missed, without bounty), then return its epoch N and the tag
    ///         changes are written with: N (they apply from N + 1), or N - 1 in the epoch of a restart before its seed
    ///         block is mined (nothing was frozen, and the seed is still unknown: they apply to N itself).
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param currentPeriod The current period.
    /// @return epoch The provider's epoch N after the missed periods are recorded.
    /// @return tag The epoch changes are written with.
    function openEpoch(
        MarketLayout.Layout storage s,
        address provider,
        uint256 currentPeriod
    ) public returns (uint32 epoch, uint32 tag) {
        return openEpochInline(s, provider, currentPeriod, false);
    }

    /// @notice `openEpoch`, inlined into the calling library (the update path pays one library call, not two).
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param currentPeriod The current period.
    /// @param holdsBytes True when the caller knows that one of the provider's data sets is in a size class now:
    ///        its current mask is then not empty, so there is no restart and the mask word is not read.
    /// @return epoch The provider's epoch N.
    /// @return tag The epoch changes are written with.
    function openEpochInline(
        MarketLayout.Layout storage s,
        address provider,
        uint256 currentPeriod,
        bool holdsBytes
    ) internal returns (uint32 epoch, uint32 tag) {
        if (holdsBytes) {
            // The common case, from one read of the proving state's word: no closed period to record, no restart.
            uint256 w = MarketLayout.loadProofState(s.proofStates[provider]);
            epoch = uint32(w);
            if (epoch >= currentPeriod) {
                bool restarted =
                    uint32(w >> MarketLayout.RESTART_EPOCH_BIT) == epoch &&
                        block.number <= uint64(w >> MarketLayout.SEED_BLOCK_BIT);
                return (epoch, restarted ? epoch - 1 : epoch);
            }
        }
        (uint32 from, uint32 count) = recordMissedInline(s, provider, currentPeriod);
        if (count != 0)
            emit IStorageMarket.MissedProofsReported(
                provider,
                from,
                count,
                address(0),
                0,
                s.proofStates[provider].seedBlock
            );
        MarketLayout.ProofState storage st = s.proofStates[provider];
        epoch = st.nextPeriod;
        if (!holdsBytes && _holdsNothing(s.masks[provider], epoch)) {
            // Nothing to prove now or next: restart from the next period with a fresh seed.
            epoch = uint32(currentPeriod + 1);
            uint64 seedBlock = uint64(block.number + s.params.challengeFinality);
            st.nextPeriod = epoch;
            st.seedBlock = seedBlock;
            st.restartEpoch = epoch;
            emit IStorageMarket.ChallengeSeedScheduled(provider, epoch, seedBlock);
            return (epoch, epoch - 1);
        }
        tag = (st.restartEpoch == epoch && block.number <= st.seedBlock) ? epoch - 1 : epoch;
    }

    /// @dev Nothing frozen for `epoch` and nothing current in a versioned class mask.
    function _holdsNothing(uint256 maskWord, uint256 epoch) private pure returns (bool) {
        return Versioned.frozen(maskWord, epoch) == 0 && Versioned.current(maskWord) == 0;
    }

    /// @notice `_openEpoch` without the tag, for paths that only need resolved periods.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param currentPeriod The current period.
    function catchUp(MarketLayout.Layout storage s, address provider, uint256 currentPeriod) public {
        catchUpInline(s, provider, currentPeriod);
    }

    /// @notice `catchUp`, inlined into the calling library.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param currentPeriod The current period.
    function catchUpInline(MarketLayout.Layout storage s, address provider, uint256 currentPeriod) internal {
        (uint32 from, uint32 count) = recordMissedInline(s, provider, currentPeriod);
        if (count != 0)
            emit IStorageMarket.MissedProofsReported(
                provider,
                from,
                count,
                address(0),
                0,
                s.proofStates[provider].seedBlock
            );
    }

    /// @notice Record the provider's closed, unproven periods as missed (a period with nothing frozen is skipped)
    ///         and schedule the seed of its new epoch. `ChallengeSeedScheduled` is emitted only when no period is
    ///         recorded: otherwise the caller emits `MissedProofsReported`, which carries the same seed block.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param currentPeriod The current period.
    /// @return from First period recorded missed.
    /// @return count Number of periods recorded missed.
    function recordMissedInline(
        MarketLayout.Layout storage s,
        address provider,
        uint256 currentPeriod
    ) internal returns (uint32 from, uint32 count) {
        MarketLayout.ProofState storage st = s.proofStates[provider];
        uint256 current = currentPeriod;
        uint256 next = st.nextPeriod;
        from = uint32(next);
        if (next >= current) return (from, 0);
        uint256 maskWord = s.masks[provider];
        if (Versioned.frozen(maskWord, next) == 0) {
            // Nothing was frozen for `next`: it needs no proof. Later periods hold the current bytes.
            ++next;
            if (Versioned.current(maskWord) == 0) next = current;
        }
        if (next < current) {
            from = uint32(next);
            count = uint32(current - next);
            MarketLayout.ProofBond storage b = s.bonds[provider];
            // Fewer runs than recorded periods (< 2^32).
            b.faultRuns = uint64(s.faultLogs[provider].record(b.faultRuns, from, count));
            st.missedPeriods += count;
        }
        st.nextPeriod = uint32(current);
        uint64 seedBlock = uint64(block.number + s.params.challengeFinality);
        st.seedBlock = seedBlock;
        // Recorded periods are announced by the caller's `MissedProofsReported`, which carries the new seed block.
        if (count == 0) emit IStorageMarket.ChallengeSeedScheduled(provider, uint32(current), seedBlock);
    }

    /// @notice Write a data set's new root and span in epoch `tag`, moving it between size classes as needed; returns
    ///         the collateral to lock and to unlock.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param root Its new root.
    /// @param span Its new span (leaves).
    /// @param tag The epoch of the write.
    /// @return toLock Collateral to lock.
    /// @return toUnlock Collateral to unlock.
    function write(
        MarketLayout.Layout storage s,
        uint64 id,
        bytes32 root,
        uint64 span,
        uint32 tag
    ) public returns (uint256 toLock, uint256 toUnlock) {
        return writeInline(s, id, root, span, tag);
    }

    /// @notice `write`, inlined into the calling library (so libraries link no other library).
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param root Its new root.
    /// @param span Its new span (leaves).
    /// @param tag The epoch of the write.
    /// @return toLock Collateral to lock.
    /// @return toUnlock Collateral to unlock.
    function writeInline(
        MarketLayout.Layout storage s,
        uint64 id,
        bytes32 root,
        uint64 span,
        uint32 tag
    ) internal returns (uint256 toLock, uint256 toUnlock) {
        MarketLayout.DataSet storage d = s.sets[id];
        uint256 oldSpan = d.spanCur;
        if (d.writtenAt != tag) {
            d.spanPrev = d.spanCur;
            d.rootParity = 1 - d.rootParity;
            d.writtenAt = tag;
        }
        d.spanCur = span;
        s.roots[id][d.rootParity] = root;
        (uint256 oldPlusOne, uint256 newPlusOne) = drawClassMove(oldSpan, d.classPlusOne, span);
        if (oldPlusOne == newPlusOne) return (0, 0);
        return changeClassInline(s, id, oldPlusOne, newPlusOne, tag);
    }

    /// @notice Draw classes + 1 of a data set's span before and after a write (0 = in none), or (0, 0) when both are
    ///         in one draw class, seen without a logarithm: with `a = oldSpan − 1` and `x = a ^ (span − 1)`, the two
    ///         agree on their bit length and four leading bits, which fix the draw class (`DrawClasses.classOf`),
    ///         exactly when `16x` has no bit at or above a's bit length, i.e. `(16x & ~a) ≤ a`. A data set is always
    ///         in the draw class of its current span.
    /// @param oldSpan The span before.
    /// @param oldSizePlusOne Its size class + 1 (`classPlusOne`; 0 when `oldSpan` is 0).
    /// @param span The span after.
    /// @return oldPlusOne Draw class + 1 before.
    /// @return newPlusOne Draw class + 1 after (equal to `oldPlusOne` when the class does not change).
    function drawClassMove(
        uint256 oldSpan,
        uint256 oldSizePlusOne,
        uint256 span
    ) internal pure returns (uint256 oldPlusOne, uint256 newPlusOne) {
        if (oldSpan != 0 && span != 0 && DrawClasses.sameClass(oldSpan, span)) return (0, 0);
        oldPlusOne = oldSizePlusOne == 0 ? 0 : DrawClasses.classIn(oldSpan, oldSizePlusOne - 1) + 1;
        newPlusOne = span == 0 ? 0 : DrawClasses.classOf(span) + 1;
    }

    /// @notice Move a data set from draw class `oldPlusOne - 1` to `newPlusOne - 1` (0: none) in epoch `tag`; a live
    ///         data set's collateral follows its size class (`draw class >> 3`). Returns the collateral to lock and to
    ///         unlock.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param oldPlusOne Its draw class + 1 before (0 = none).
    /// @param newPlusOne Its draw class + 1 after (0 = none; differs from `oldPlusOne`).
    /// @param tag The epoch of the write.
    /// @return toLock Collateral to lock.
    /// @return toUnlock Collateral to unlock.
    function changeClassInline(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 oldPlusOne,
        uint256 newPlusOne,
        uint32 tag
    ) internal returns (uint256 toLock, uint256 toUnlock) {
        MarketLayout.DataSet storage d = s.sets[id];
        address provider = d.provider;
        if (oldPlusOne != 0) _removeFromClass(s, provider, d, oldPlusOne - 1, tag);
        if (newPlusOne != 0) _appendToClass(s, provider, id, d, newPlusOne - 1, tag);
        uint256 sizePlusOne = newPlusOne == 0 ? 0 : ((newPlusOne - 1) >> 3) + 1;
        if (sizePlusOne == d.classPlusOne) return (0, 0);
        d.classPlusOne = uint8(sizePlusOne);
        if (d.status != IStorageMarket.Status.Live) return (0, 0);
        // A live data set's collateral follows its size class; an ending one keeps its lock until it is closed.
        uint256 before =
            d.lockedClassPlusOne == 0
                ? 0
                : DataSetMath.collateral(d.collateralPerTiB, d.lockedClassPlusOne - 1);
        uint256 after_ = sizePlusOne == 0 ? 0 : DataSetMath.collateral(d.collateralPerTiB, sizePlusOne - 1);
        d.lockedClassPlusOne = uint8(sizePlusOne);
        if (after_ > before) toLock = after_ - before;
        else toUnlock = before - after_;
    }

    /// @dev Append `id` to draw class `k`; the size class's mask bit is set when it held nothing.
    function _appendToClass(
        MarketLayout.Layout storage s,
        address provider,
        uint64 id,
        MarketLayout.DataSet storage d,
        uint256 k,
        uint32 tag
    ) private {
        (uint256 count, bool wasEmpty) = DrawClasses.move(s.classCounts[provider], k, true, tag);
        mapping(uint256 => uint256) storage slots = s.slots[provider];
        uint256 key = (k << 64) | count;
        slots[key] = Versioned.write(slots[key], id, tag);
        d.classSlot = uint32(count);
        if (wasEmpty) {
            uint256 maskWord = s.masks[provider];
            s.masks[provider] = Versioned.write(
                maskWord,
                Versioned.current(maskWord) | (uint256(1) << (k >> 3)),
                tag
            );
        }
    }

    /// @dev Remove `d` from draw class `k` (the last slot fills its hole); the size class's mask bit is cleared when
    ///      it holds nothing after.
    function _removeFromClass(
        MarketLayout.Layout storage s,
        address provider,
        MarketLayout.DataSet storage d,
        uint256 k,
        uint32 tag
    ) private {
        (uint256 count, bool emptied) = DrawClasses.move(s.classCounts[provider], k, false, tag);
        // The data set is in the draw class, so count >= 1.
        uint256 last = count - 1;
        uint256 index = d.classSlot;
        if (index != last) {
            mapping(uint256 => uint256) storage slots = s.slots[provider];
            uint64 moved = uint64(Versioned.current(slots[(k << 64) | last]));
            uint256 key = (k << 64) | index;
            slots[key] = Versioned.write(slots[key], moved, tag);
            s.sets[moved].classSlot = uint32(index);
        }
        if (emptied) {
            uint256 maskWord = s.masks[provider];
            s.masks[provider] = Versioned.write(
                maskWord,
                Versioned.current(maskWord) & ~(uint256(1) << (k >> 3)),
                tag
            );
        }
    }

    /// @notice Schedule a fresh seed block for the caller when its seed's hash is gone (once per period).
    /// @param s The market's storage.
    /// @param seedReadable Whether the current seed block's hash is still readable.
    /// @param currentPeriod The current period.
    function refreshSeed(MarketLayout.Layout storage s, bool seedReadable, uint256 currentPeriod) public {
        MarketLayout.ProofState storage state = s.proofStates[msg.sender];
        // A refresh is a second draw of the challenges: allow it only when the seed is truly gone, and at most
        // once per period, so a provider cannot re-roll its challenges at will.
        if (seedReadable || state.seedRefreshedPeriod == currentPeriod + 1) {
            revert IStorageMarket.MarketSeedRefreshNotAllowed(state.seedBlock);
        }
        uint64 seedBlock = uint64(block.number + s.params.challengeFinality);
        state.seedBlock = seedBlock;
        state.seedRefreshedPeriod = uint32(currentPeriod + 1);
        emit IStorageMarket.ChallengeSeedScheduled(msg.sender, state.nextPeriod, seedBlock);
    }

    /// @notice Set a live data set to end after its notice: `endPeriod = N + 1 + noticePeriods`.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param reason Why it ends.
    /// @param currentPeriod The current period.
    function beginEnd(
        MarketLayout.Layout storage s,
        uint64 id,
        IStorageMarket.EndReason reason,
        uint256 currentPeriod
    ) public {
        MarketLayout.DataSet storage d = s.sets[id];
        catchUp(s, d.provider, currentPeriod);
        uint32 end = uint32(uint256(s.proofStates[d.provider].nextPeriod) + 1 + d.noticePeriods);
        d.endPeriod = end;
        d.status = IStorageMarket.Status.Ending;
        d.endReason = reason;
        emit IStorageMarket.DataSetTerminated(id, msg.sender, reason, end);
    }

    /// @notice End a live data set whose escrow no longer covers its notice plus one period (after its provider's
    ///         closed periods are resolved), else revert with `MarketStillFunded`; it ends as `beginEnd` says.
    /// @param s The market's storage.
    /// @param id The data set (live).
    /// @param currentPeriod The current period.
    /// @param provingPeriod The market's proving period (seconds).
    function terminateUnfunded(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 currentPeriod,
        uint256 provingPeriod
    ) public {
        catchUpInline(s, s.sets[id].provider, currentPeriod);
        (uint256 available, uint256 needed) = DataSetAccrual.fundingInline(s, id, provingPeriod);
        if (available >= needed) revert IStorageMarket.MarketStillFunded(id, available, needed);
        beginEnd(s, id, IStorageMarket.EndReason.Unfunded, currentPeriod);
    }

    /// @notice Take an ending data set that is in a size class out of its provider's classes from the next epoch
    ///         (accounted first); emitted as a `DataSetUpdated` to span 0 at the data set's current version.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provider Its provider.
    /// @param currentPeriod The current period.
    /// @param provingPeriod The market's proving period (seconds).
    function remove(
        MarketLayout.Layout storage s,
        uint64 id,
        address provider,
        uint256 currentPeriod,
        uint256 provingPeriod
    ) public {
        // The caller removes a data set that is in a size class: the provider holds bytes.
        (uint32 epoch, uint32 tag) = openEpochInline(s, provider, currentPeriod, true);
        DataSetAccrual.accrueInline(s, id, provingPeriod);
        writeInline(s, id, bytes32(0), 0, tag);
        emit IStorageMarket.DataSetUpdated(
            id,
            s.sets[id].version,
            bytes32(0),
            0,
            epoch == tag ? epoch + 1 : epoch
        );
    }
}
