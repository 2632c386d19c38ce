// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { DataSetAccrual } from "./DataSetAccrual.sol";
import { DataSetMath } from "./DataSetMath.sol";
import { MarketLayout } from "./MarketLayout.sol";
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

    /// @notice Frozen and current weight (leaves) of a provider: Σ count_c × 2^c.
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
        for (uint256 c = 0; c < 48; ++c) {
            uint256 w = s.classCounts[provider][c];
            if ((Versioned.frozen(maskWord, epoch) >> c) & 1 == 1) frozen += Versioned.frozen(w, epoch) << c;
            if ((Versioned.current(maskWord) >> c) & 1 == 1) current += Versioned.current(w) << c;
        }
    }

    /// @notice Frozen count of class `c` and the data set frozen in `slot`.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param c The size class.
    /// @param slot The slot.
    /// @return count Frozen number of data sets in the class.
    /// @return id The data set frozen in the slot.
    function classSlot(
        MarketLayout.Layout storage s,
        address provider,
        uint8 c,
        uint256 slot
    ) public view returns (uint256 count, uint64 id) {
        uint256 epoch = s.proofStates[provider].nextPeriod;
        count = Versioned.frozen(s.classCounts[provider][c], epoch);
        id = uint64(Versioned.frozen(s.slots[provider][(uint256(c) << 64) | slot], epoch));
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
