// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { DataSetAccrual } from "./DataSetAccrual.sol";
import { DrawClasses } from "./DrawClasses.sol";
import { MarketLayout } from "./MarketLayout.sol";
import { MerkleSha256 } from "./MerkleSha256.sol";
import { Versioned } from "./Versioned.sol";

/// @title DataSetProving
/// @notice The byte-uniform challenge draw over a provider's frozen draw classes, proof verification against
///         frozen roots, and fault declaration (docs/SPEC.md §7.4). Runs in the market's context.
/// @dev Deployed and linked (public functions, DELEGATECALL) so the market stays under the 24 KiB limit.
library DataSetProving {
    /// @notice Fewest rejected draws a period may take: at most `count + max(count, MIN_REJECTED)` words are drawn,
    ///         so at most `max(count, MIN_REJECTED)` rejected draws are ever paid for (docs/SPEC.md §7.4).
    uint256 internal constant MIN_REJECTED = 4;
    /// @notice Number of size classes (spans up to 2^47 leaves).
    uint256 internal constant CLASSES = 48;

    /// @notice Clock, parameters and seed of one proof.
    struct ProofContext {
        uint256 periodEnd;
        uint256 proofWindow;
        uint256 challengeCount;
        uint256 challengeFinality;
        uint256 provingPeriod;
        bytes32 seed;
    }

    /// @notice Verify `answers` for the caller's `period` and advance its epoch.
    /// @param s The market's storage.
    /// @param ctx Clock, parameters and seed.
    /// @param period The period proven.
    /// @param answers One answer per accepted challenge, in draw order.
    function submitProof(
        MarketLayout.Layout storage s,
        ProofContext memory ctx,
        uint32 period,
        IStorageMarket.ChallengeAnswer[] calldata answers
    ) public {
        MarketLayout.ProofState storage state = s.proofStates[msg.sender];
        uint32 next = state.nextPeriod;
        if (period != next) revert IStorageMarket.MarketWrongPeriod(period, next);
        uint256 opensAt = ctx.periodEnd - ctx.proofWindow;
        if (block.timestamp < opensAt || block.timestamp >= ctx.periodEnd) {
            revert IStorageMarket.MarketOutsideProofWindow(opensAt, ctx.periodEnd, block.timestamp);
        }
        (IStorageMarket.Challenge[] memory drawn, bytes32[] memory roots) = draw(
            s,
            msg.sender,
            period,
            ctx.seed,
            ctx.challengeCount
        );
        if (answers.length != drawn.length) {
            revert IStorageMarket.MarketWrongChallengeCount(answers.length, drawn.length);
        }
        for (uint256 i = 0; i < drawn.length; ++i) {
            IStorageMarket.Challenge memory c = drawn[i];
            // A data set declared faulty for this period is charged for it already; its answer is ignored.
            if (c.declared) continue;
            IStorageMarket.ChallengeAnswer calldata a = answers[i];
            if (a.path.length != c.depth)
                revert IStorageMarket.MarketBadProofLength(i, a.path.length, c.depth);
            if (MerkleSha256.computeRoot(a.leaf[0], a.leaf[1], c.leaf, a.path) != roots[i]) {
                revert IStorageMarket.MarketInvalidProof(i, c.dataSetId, c.leaf);
            }
        }
        uint64 nextSeedBlock = uint64(block.number + ctx.challengeFinality);
        // period < 2^32 - 1 in any realistic lifetime (periods are >= 60 s), so the increment cannot wrap.
        unchecked {
            state.nextPeriod = period + 1;
        }
        state.seedBlock = nextSeedBlock;
        emit IStorageMarket.ProofSubmitted(msg.sender, period, nextSeedBlock);
    }

    /// @notice The challenges of `provider`'s period `epoch` drawn from `seed` over its frozen bytes, and the frozen
    ///         root each one is answered against. Draw j: `r = uint256(keccak256(abi.encode(seed, provider, epoch,
    ///         j))) mod W` over the draw classes k in ascending order (weight `count_k × capacity_k`); slot
    ///         `r' / capacity_k`, leaf `r' mod capacity_k`; accepted iff the leaf is below the data set's frozen span;
    ///         at most `count + max(count, MIN_REJECTED)` draws.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param epoch The period drawn for.
    /// @param seed The seed.
    /// @param count Challenges wanted.
    /// @return drawn The accepted challenges.
    /// @return roots The frozen root of each one's data set.
    function draw(
        MarketLayout.Layout storage s,
        address provider,
        uint256 epoch,
        bytes32 seed,
        uint256 count
    ) public view returns (IStorageMarket.Challenge[] memory drawn, bytes32[] memory roots) {
        uint256 mask = Versioned.frozen(s.masks[provider], epoch);
        drawn = new IStorageMarket.Challenge[](count);
        roots = new bytes32[](count);
        if (mask == 0) {
            // Shorten both arrays to the accepted count (0) in place: no copy.
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                mstore(drawn, 0)
                mstore(roots, 0)
            }
            return (drawn, roots);
        }
        Classes memory k = _classes(s, provider, epoch, mask);
        uint256 accepted;
        for (uint256 j = 0; j < _maxDraws(count) && accepted < count; ++j) {
            (uint64 id, uint256 leaf, uint256 c) = _locate(s, k, provider, epoch, seed, j);
            // The data set's word 2, read once: spanCur, spanPrev, writtenAt, lastDeclaredPlusOne, rootParity
            // (bits 0, 64, 128, 160, 192; `MarketLayout.DataSet`).
            uint256 w = _word2(s.sets[id]);
            bool pendingWrite = uint32(w >> 128) == epoch;
            if (leaf >= uint64(pendingWrite ? w >> 64 : w)) continue;
            drawn[accepted] = IStorageMarket.Challenge({
                dataSetId: id,
                leaf: uint64(leaf),
                depth: uint8(c),
                declared: uint32(w >> 160) == epoch + 1
            });
            // The frozen root is the current one unless a write of this epoch is pending (then the other one).
            roots[accepted] = s.roots[id][uint8(w >> 192) ^ (pendingWrite ? 1 : 0)];
            ++accepted;
        }
        // Shorten both arrays to the accepted count in place (accepted <= count): no copy.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(drawn, accepted)
            mstore(roots, accepted)
        }
    }

    /// @dev Most words drawn for `count` challenges: `count + max(count, MIN_REJECTED)`.
    function _maxDraws(uint256 count) private pure returns (uint256) {
        return count + (count > MIN_REJECTED ? count : MIN_REJECTED);
    }

    /// @dev The storage word of `d` that holds its spans, write epoch, declaration and root parity.
    function _word2(MarketLayout.DataSet storage d) private view returns (uint256 w) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            w := sload(add(d.slot, 2))
        }
    }

    /// @notice Non-empty frozen size classes in ascending order with their frozen packed draw-class counts (from the
    ///         first non-empty eighth on, its index above bit 224) and cumulative weights (leaves).
    struct Classes {
        uint256[CLASSES] class;
        uint256[CLASSES] counts;
        uint256[CLASSES] cum;
        uint256 total;
    }

    function _classes(
        MarketLayout.Layout storage s,
        address provider,
        uint256 epoch,
        uint256 mask
    ) private view returns (Classes memory k) {
        uint256 n;
        uint256 total;
        mapping(uint256 => uint256) storage counts = s.classCounts[provider];
        // The mask has no bit at or above CLASSES (classes are below 48): stop after its highest class, stepping over
        // empty bytes of it eight classes at a time (c < 48: the increments cannot overflow).
        for (uint256 c = 0; (mask >> c) != 0;) {
            unchecked {
                if ((mask >> c) & 0xFF == 0) {
                    c += 8;
                    continue;
                }
                if ((mask >> c) & 1 == 0) {
                    ++c;
                    continue;
                }
            }
            uint256 rest = DrawClasses.frozen(counts, c, epoch);
            (uint256 cap, uint256 unit) = _firstCapacity(c);
            // Counts are below 2^27, capacities below 2^48 and eighths below 8: nothing here can overflow.
            unchecked {
                // Skip the empty eighths below the first one that holds a data set, once for every draw.
                uint256 first = 0;
                while (rest != 0 && rest & DrawClasses.COUNT_MASK == 0) {
                    rest >>= DrawClasses.COUNT_BITS;
                    ++first;
                }
                k.counts[n] = rest | (first << DrawClasses.WRITTEN_AT_BIT);
                cap += first * unit;
                for (; rest != 0; rest >>= DrawClasses.COUNT_BITS) {
                    total += (rest & DrawClasses.COUNT_MASK) * cap;
                    cap += unit;
                }
            }
            k.class[n] = c;
            k.cum[n] = total;
            unchecked {
                ++n;
                ++c;
            }
        }
        k.total = total;
    }

    /// @dev Draw `j`: the frozen data set, leaf and size class it lands on (before the span check).
    function _locate(
        MarketLayout.Layout storage s,
        Classes memory k,
        address provider,
        uint256 epoch,
        bytes32 seed,
        uint256 j
    ) private view returns (uint64 id, uint256 leaf, uint256 c) {
        // keccak256(abi.encode(seed, provider, epoch, j)), hashed above the free memory pointer without allocating.
        uint256 h;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, seed)
            mstore(add(m, 0x20), provider)
            mstore(add(m, 0x40), epoch)
            mstore(add(m, 0x60), j)
            h := keccak256(m, 0x80)
        }
        uint256 r = h % k.total;
        uint256 i = 0;
        while (r >= k.cum[i]) ++i;
        c = k.class[i];
        if (i != 0) r -= k.cum[i - 1];
        uint256 slot;
        (c, slot, leaf) = _within(k.counts[i], c, r);
        id = uint64(Versioned.frozen(s.slots[provider][(c << 64) | slot], epoch));
        c >>= 3;
    }

    /// @dev Position `r` inside size class `c`, whose frozen packed counts from its first non-empty eighth on are
    ///      `packed` (that eighth's index above bit 224, `_classes`): its draw class, slot and leaf.
    function _within(
        uint256 packed,
        uint256 c,
        uint256 r
    ) private pure returns (uint256 drawClass, uint256 slot, uint256 leaf) {
        (uint256 cap, uint256 unit) = _firstCapacity(c);
        uint256 first = packed >> DrawClasses.WRITTEN_AT_BIT;
        packed &= DrawClasses.COUNTS_MASK;
        // r is below the size class's weight, the sum of its draw classes' weights: the scan stops at one of them,
        // and every quantity stays below that weight (< 2^76): unchecked.
        unchecked {
            drawClass = (c << 3) + first;
            cap += first * unit;
            while (true) {
                uint256 weightOf = (packed & DrawClasses.COUNT_MASK) * cap;
                if (r < weightOf) break;
                r -= weightOf;
                packed >>= DrawClasses.COUNT_BITS;
                cap += unit;
                ++drawClass;
            }
        }
        slot = r / cap;
        leaf = r % cap;
    }

    /// @dev Capacity of size class c's first draw class and the step between its draw classes (`DrawClasses`).
    function _firstCapacity(uint256 c) private pure returns (uint256 cap, uint256 unit) {
        unit = c > 4 ? uint256(1) << (c - 4) : 1;
        cap = ((uint256(1) << c) >> 1) + unit;
    }

    /// @notice Declare the caller's `ids` faulty for its next period (before its seed block is mined).
    /// @param s The market's storage.
    /// @param currentPeriod The current period.
    /// @param provingPeriod The market's proving period (seconds).
    /// @param ids The data sets.
    function declareFaults(
        MarketLayout.Layout storage s,
        uint256 currentPeriod,
        uint256 provingPeriod,
        uint64[] calldata ids
    ) public {
        MarketLayout.ProofState memory st = s.proofStates[msg.sender];
        if (st.nextPeriod < currentPeriod) {
            revert IStorageMarket.MarketUnresolvedPeriods(msg.sender, st.nextPeriod, currentPeriod);
        }
        if (block.number > st.seedBlock)
            revert IStorageMarket.MarketDeclarationClosed(st.seedBlock, block.number);
        uint32 period = st.nextPeriod;
        for (uint256 i = 0; i < ids.length; ++i) {
            uint64 id = ids[i];
            MarketLayout.DataSet storage d = s.sets[id];
            if (d.provider != msg.sender) revert IStorageMarket.MarketNotDataSetParty(id, msg.sender);
            uint256 frozenSpan = d.writtenAt == period ? d.spanPrev : d.spanCur;
            if (frozenSpan == 0 || d.lastDeclaredPlusOne == period + 1) {
                revert IStorageMarket.MarketCannotDeclare(id, period);
            }
            // Account what is resolved first, so at most one declaration is ever pending.
            DataSetAccrual.accrueInline(s, id, provingPeriod);
            d.lastDeclaredPlusOne = period + 1;
            emit IStorageMarket.FaultDeclared(msg.sender, period, id);
        }
    }
}
