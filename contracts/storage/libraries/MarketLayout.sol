// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { FaultLog } from "./FaultLog.sol";

/// @title MarketLayout
/// @notice The storage market's state, in one struct so that the market and its linked libraries share it.
library MarketLayout {
    /// @notice One data set, in six words. A signed state update within its size class reads words 0 to 4 and
    ///         writes words 2 and 3 (and the root); settlement reads words 0 to 4; a proof reads word 2 (and the
    ///         root). Word 5 is read only when the data set changes size class or closes.
    /// @param client Client (word 0).
    /// @param pricePerTiBMonth Price (below 2^96, checked at creation).
    /// @param provider Provider (word 1).
    /// @param endPeriod First period not paid (0 while live).
    /// @param noticePeriods Notice in periods.
    /// @param status Lifecycle status.
    /// @param endReason Why it ends (valid once `status` is Ending or Finalized).
    /// @param classPlusOne Current size class + 1 (0 = in no class).
    /// @param lockedClassPlusOne Class whose capacity is locked as collateral + 1 (0 = nothing locked).
    /// @param spanCur Current span (word 2, versioned with `spanPrev`, `writtenAt` and the root parity).
    /// @param spanPrev Span before the write of epoch `writtenAt`.
    /// @param writtenAt Epoch of the last write of span and root.
    /// @param lastDeclaredPlusOne Last period declared faulty + 1 (0 = none).
    /// @param rootParity Which of the two root words is current.
    /// @param version Newest applied state version.
    /// @param leafSeconds Σ span × proven, unfaulted seconds accounted (word 3).
    /// @param paidThrough First period not yet accounted.
    /// @param missedFaults Missed periods charged.
    /// @param declaredFaults Declared periods charged.
    /// @param escrow Client tokens held for the data set (word 4).
    /// @param paid Tokens paid to the provider so far.
    /// @param collateralPerTiB Collateral rate (word 5).
    /// @param classSlot Position in its size class's slot array (current view).
    struct DataSet {
        address client;
        uint96 pricePerTiBMonth;
        address provider;
        uint32 endPeriod;
        uint32 noticePeriods;
        IStorageMarket.Status status;
        IStorageMarket.EndReason endReason;
        uint8 classPlusOne;
        uint8 lockedClassPlusOne;
        uint64 spanCur;
        uint64 spanPrev;
        uint32 writtenAt;
        uint32 lastDeclaredPlusOne;
        uint8 rootParity;
        uint56 version;
        uint128 leafSeconds;
        uint32 paidThrough;
        uint32 missedFaults;
        uint32 declaredFaults;
        uint128 escrow;
        uint128 paid;
        uint128 collateralPerTiB;
        uint32 classSlot;
    }

    /// @notice Bit offsets of the `DataSet` fields an update reads as whole words (`loadWord`), in the order Solidity packs
    ///         them: word 1 `endPeriod`, `noticePeriods`, `status`, `classPlusOne`; word 2 `spanPrev`, `writtenAt`,
    ///         `lastDeclaredPlusOne`, `rootParity`, `version`; word 3 `paidThrough`, `missedFaults`,
    ///         `declaredFaults`; word 0 `pricePerTiBMonth` and word 4 `paid` from bit 160 and 128.
    uint256 internal constant END_PERIOD_BIT = 160;
    uint256 internal constant NOTICE_BIT = 192;
    uint256 internal constant STATUS_BIT = 224;
    uint256 internal constant CLASS_BIT = 240;
    uint256 internal constant SPAN_PREV_BIT = 64;
    uint256 internal constant WRITTEN_AT_BIT = 128;
    uint256 internal constant DECLARED_BIT = 160;
    uint256 internal constant PARITY_BIT = 192;
    uint256 internal constant VERSION_BIT = 200;
    uint256 internal constant PAID_THROUGH_BIT = 128;
    uint256 internal constant MISSED_FAULTS_BIT = 160;
    uint256 internal constant DECLARED_FAULTS_BIT = 192;
    uint256 internal constant PRICE_BIT = 160;
    uint256 internal constant PAID_BIT = 128;

    /// @notice Bit offsets of `ProofState.seedBlock` and `ProofState.restartEpoch` in its word (`nextPeriod` is bits
    ///         0 to 31).
    uint256 internal constant SEED_BLOCK_BIT = 32;
    uint256 internal constant RESTART_EPOCH_BIT = 160;

    /// @notice A provider's proving state, read as its one word.
    /// @param st The proving state.
    /// @return w The word.
    function loadProofState(ProofState storage st) internal view returns (uint256 w) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            w := sload(st.slot)
        }
    }

    /// @notice Word `k` of a data set, read whole (an update reads words 0 to 4 once instead of field by field).
    /// @param d The data set.
    /// @param k The word (0 to 5).
    /// @return w The word.
    function loadWord(DataSet storage d, uint256 k) internal view returns (uint256 w) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            w := sload(add(d.slot, k))
        }
    }

    /// @notice Write word `k` of a data set whole.
    /// @param d The data set.
    /// @param k The word (0 to 5).
    /// @param w The word.
    function storeWord(DataSet storage d, uint256 k, uint256 w) internal {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(add(d.slot, k), w)
        }
    }

    /// @notice Bit of the parameters' first word (above its 248 bits of fields) that holds the pause flag: the
    ///         update path reads that word anyway, so the pause check costs no storage read of its own.
    uint256 internal constant PAUSED_BIT = 1 << 255;

    /// @notice Bit offset of `Parameters.maxDataSetSize` (64 bits) in the parameters' first word.
    uint256 internal constant MAX_DATA_SET_SIZE_BIT = 184;

    /// @notice The parameters' first word (its fields, `PAUSED_BIT` and `maxDataSetSize` among them), read whole.
    /// @param s The market's storage.
    /// @return w The word.
    function paramsWord0(Layout storage s) internal view returns (uint256 w) {
        IStorageMarket.Parameters storage params = s.params;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            w := sload(params.slot)
        }
    }

    /// @notice The largest span (leaves) a data set may have, `maxDataSetSize / 64`, from the parameters' first word.
    /// @param word0 The parameters' first word.
    /// @return The bound.
    function maxSpan(uint256 word0) internal pure returns (uint256) {
        return uint64(word0 >> MAX_DATA_SET_SIZE_BIT) >> 6;
    }

    /// @notice Whether the market is paused.
    /// @param s The market's storage.
    /// @return p The flag.
    function paused(Layout storage s) internal view returns (bool p) {
        IStorageMarket.Parameters storage params = s.params;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            p := iszero(iszero(and(sload(params.slot), PAUSED_BIT)))
        }
    }

    /// @notice Set or clear the pause flag (the parameter fields of the word are kept).
    /// @param s The market's storage.
    /// @param p The flag.
    function setPaused(Layout storage s, bool p) internal {
        IStorageMarket.Parameters storage params = s.params;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let word := and(sload(params.slot), not(PAUSED_BIT))
            sstore(params.slot, or(word, mul(p, PAUSED_BIT)))
        }
    }

    /// @notice Lowest bit of the parameters' second word above its 144 bits of fields: the bits from here up hold the
    ///         treasury's credit not yet moved into its ledger balance. Slashes read that word anyway (the penalty and
    ///         the reporter's share), so crediting the treasury there costs no storage words of its own.
    uint256 internal constant TREASURY_SHIFT = 144;

    /// @notice The treasury's credit not yet moved into its ledger balance.
    /// @param s The market's storage.
    /// @return pending The credit.
    function treasuryPending(Layout storage s) internal view returns (uint256 pending) {
        IStorageMarket.Parameters storage params = s.params;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            pending := shr(TREASURY_SHIFT, sload(add(params.slot, 1)))
        }
    }

    /// @notice Add `amount` to the treasury's pending credit; false, with nothing written, when the sum would not
    ///         fit in its 112 bits (the caller then credits the treasury's balance directly).
    /// @param s The market's storage.
    /// @param amount Tokens.
    /// @return added Whether it was added.
    function addTreasuryPending(Layout storage s, uint256 amount) internal returns (bool added) {
        IStorageMarket.Parameters storage params = s.params;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let slot := add(params.slot, 1)
            let word := sload(slot)
            let sum := add(shr(TREASURY_SHIFT, word), amount)
            // amount < 2^128 in every caller, so the sum cannot wrap; it must stay below 2^112.
            added := lt(sum, shl(112, 1))
            if added {
                sstore(slot, or(and(word, sub(shl(TREASURY_SHIFT, 1), 1)), shl(TREASURY_SHIFT, sum)))
            }
        }
    }

    /// @notice Clear the treasury's pending credit and return it.
    /// @param s The market's storage.
    /// @return pending The credit taken.
    function takeTreasuryPending(Layout storage s) internal returns (uint256 pending) {
        IStorageMarket.Parameters storage params = s.params;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let slot := add(params.slot, 1)
            let word := sload(slot)
            pending := shr(TREASURY_SHIFT, word)
            if pending {
                sstore(slot, and(word, sub(shl(TREASURY_SHIFT, 1), 1)))
            }
        }
    }

    /// @notice A provider's proving state (`IStorageMarket.ProviderProofState`, first five fields) and its proof
    ///         bond's counters, in one word: closing a data set reads this word anyway, so counting it out of the bond
    ///         writes no other word while the provider has data sets left.
    /// @param nextPeriod The provider's epoch: its next unresolved period.
    /// @param seedBlock Block whose hash seeds the challenges of `nextPeriod`.
    /// @param missedPeriods Periods recorded missed, in total.
    /// @param seedRefreshedPeriod Period + 1 of the last seed refresh.
    /// @param restartEpoch Epoch of the last restart.
    /// @param openDataSets Data sets of the provider not yet finalized.
    /// @param chargedMissed The provider's `missedPeriods` already charged to its proof bond.
    struct ProofState {
        uint32 nextPeriod;
        uint64 seedBlock;
        uint32 missedPeriods;
        uint32 seedRefreshedPeriod;
        uint32 restartEpoch;
        uint32 openDataSets;
        uint32 chargedMissed;
    }

    /// @notice A provider's proof bond (docs/SPEC.md §8.2; its counters are in `ProofState`) and the length of its
    ///         fault log, in one word: a missed-proof report writes both, so the run count costs no word of its own.
    /// @param amount Tokens of the bond left (held for the market by the registry, or collected).
    /// @param faultRuns Number of runs in the provider's `FaultLog` (`faultLogs`).
    struct ProofBond {
        uint128 amount;
        uint64 faultRuns;
    }

    /// @notice Everything the market stores.
    struct Layout {
        IStorageMarket.Parameters params;
        uint64 count;
        // Holder of the market's RETRIEVAL_ROLE (the retrieval-challenge contract), asked before a data set closes.
        address retrieval;
        mapping(uint64 id => DataSet) sets;
        mapping(uint64 id => bytes32[2]) roots;
        mapping(address provider => ProofState) proofStates;
        // Versioned bitmap of non-empty size classes.
        mapping(address provider => uint256 word) masks;
        // Per size class c the packed counts of its eight draw classes: current at key c, previous at c + 64
        // (`DrawClasses`).
        mapping(address provider => mapping(uint256 c => uint256 word)) classCounts;
        // Versioned slot entries: key `k << 64 | slot` for draw class k, value a data set id.
        mapping(address provider => mapping(uint256 key => uint256 word)) slots;
        mapping(address provider => FaultLog.Log) faultLogs;
        mapping(address client => mapping(address key => IStorageMarket.SessionKey)) sessionKeys;
        mapping(address client => mapping(uint256 word => uint256 bits)) nonceBits;
        mapping(address provider => ProofBond) bonds;
    }
}
