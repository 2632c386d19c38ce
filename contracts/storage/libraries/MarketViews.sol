// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { DataSetAccrual } from "./DataSetAccrual.sol";
import { DataSetMath } from "./DataSetMath.sol";
import { MarketLayout } from "./MarketLayout.sol";
import { DrawClasses } from "./DrawClasses.sol";
import { Versioned } from "./Versioned.sol";

/// @title MarketViews
/// @notice Read-only views of the storage market that need loops or the accrual formula.
/// @dev Deployed and linked (public functions) so the market stays under the 24 KiB limit.
library MarketViews {
    /// @notice The proving state of a provider as the market's `proofState` view returns it.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @return v The state.
    function proofState(
        MarketLayout.Layout storage s,
        address provider
    ) public view returns (IStorageMarket.ProviderProofState memory v) {
        MarketLayout.ProofState storage st = s.proofStates[provider];
        v.nextPeriod = st.nextPeriod;
        v.seedBlock = st.seedBlock;
        v.missedPeriods = st.missedPeriods;
        v.seedRefreshedPeriod = st.seedRefreshedPeriod;
        v.restartEpoch = st.restartEpoch;
    }

    /// @notice Frozen and current weight (leaves) of a provider: Σ count_k × capacity_k over its draw classes.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @return frozen Weight frozen for its next period.
    /// @return current Weight after its pending changes.
    function weight(
        MarketLayout.Layout storage s,
        address provider
    ) public view returns (uint256 frozen, uint256 current) {
        uint256 epoch = s.proofStates[provider].nextPeriod;
        uint256 maskWord = s.masks[provider];
        mapping(uint256 => uint256) storage counts = s.classCounts[provider];
        for (uint256 c = 0; c < 48; ++c) {
            bool inFrozen = (Versioned.frozen(maskWord, epoch) >> c) & 1 == 1;
            bool inCurrent = (Versioned.current(maskWord) >> c) & 1 == 1;
            if (!inFrozen && !inCurrent) continue;
            uint256 f = DrawClasses.frozen(counts, c, epoch);
            uint256 cur = counts[c] & DrawClasses.COUNTS_MASK;
            for (uint256 m = 0; m < 8; ++m) {
                uint256 cap = DrawClasses.capacity((c << 3) | m);
                uint256 shift = m * DrawClasses.COUNT_BITS;
                if (inFrozen) frozen += ((f >> shift) & DrawClasses.COUNT_MASK) * cap;
                if (inCurrent) current += ((cur >> shift) & DrawClasses.COUNT_MASK) * cap;
            }
        }
    }

    /// @notice Frozen count of draw class `k` and the data set frozen in `slot`.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param k The draw class (`size class << 3 | eighth`).
    /// @param slot The slot.
    /// @return count Frozen number of data sets in the draw class.
    /// @return id The data set frozen in the slot.
    function classSlot(
        MarketLayout.Layout storage s,
        address provider,
        uint16 k,
        uint256 slot
    ) public view returns (uint256 count, uint64 id) {
        uint256 epoch = s.proofStates[provider].nextPeriod;
        uint256 packed = DrawClasses.frozen(s.classCounts[provider], k >> 3, epoch);
        count = (packed >> ((k & 7) * DrawClasses.COUNT_BITS)) & DrawClasses.COUNT_MASK;
        id = uint64(Versioned.frozen(s.slots[provider][(uint256(k) << 64) | slot], epoch));
    }

    /// @notice What settling would pay now.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return The amount.
    function settleable(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 provingPeriod
    ) public view returns (uint256) {
        uint256 owed = DataSetAccrual.owedInline(s, id, provingPeriod);
        uint256 escrow = s.sets[id].escrow;
        return owed < escrow ? owed : escrow;
    }

    /// @notice Escrow a data set of `span` leaves must hold beyond what is owed (notice + 2 periods).
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param span The span (leaves).
    /// @param provingPeriod The market's proving period (seconds).
    /// @return The lockup.
    function lockup(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 span,
        uint256 provingPeriod
    ) public view returns (uint256) {
        MarketLayout.DataSet storage d = s.sets[id];
        return DataSetMath.cost(d.pricePerTiBMonth, span, (uint256(d.noticePeriods) + 2) * provingPeriod);
    }

    /// @notice Escrow the client may withdraw now.
    /// @param s The market's storage.
    /// @param id The data set.
    /// @param provingPeriod The market's proving period (seconds).
    /// @return The amount.
    function withdrawable(
        MarketLayout.Layout storage s,
        uint64 id,
        uint256 provingPeriod
    ) public view returns (uint256) {
        return DataSetAccrual.withdrawableInline(s, id, provingPeriod);
    }
}
