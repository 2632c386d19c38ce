// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { BasisPoints } from "../../payments/libraries/BasisPoints.sol";
import { MarketLayout } from "./MarketLayout.sol";
import { ProviderEpochs } from "./ProviderEpochs.sol";

/// @title ProofBond
/// @notice The proof bond of every provider (docs/SPEC.md §3, §8.2): while a provider has a data set not finalized,
///         the market holds `(maxFaults + 2) × missedProofPenalty` of its stake itself (taken from its free stake
///         with `IProviderRegistry.bondStake`), and every missed period costs `missedProofPenalty` from it — a
///         watcher's share is therefore paid whatever the provider does with its free or unbonding stake, and a
///         report moves tokens only inside the market's ledger (no registry call). Periods recorded by a change (no
///         reporter) are charged, without reporter share, the next time the bond is touched (a report, a refill, the
///         release): the bond is held until then, and what is left goes back to the provider's free stake
///         (`IProviderRegistry.returnStake`) when its last data set closes.
/// @dev The internal functions are inlined into the libraries that open and close data sets; `report` and `refill`
///      are linked (public). Every function returns the tokens to move; the market credits the shares in its ledger
///      and moves stake in the registry afterwards (state final before any external call).
library ProofBond {
    /// @notice Tokens to move after a bond operation. The slashed part of the bond (`toReporter + toTreasury`) is
    ///         already the market's: it is only credited.
    /// @param toReporter Share credited to the reporter.
    /// @param toTreasury Share credited to the treasury.
    /// @param toBond Free stake to take into the bond (`IProviderRegistry.bondStake`).
    /// @param toReturn Bond to give back to free stake (`IProviderRegistry.returnStake`).
    struct Charge {
        uint256 toReporter;
        uint256 toTreasury;
        uint256 toBond;
        uint256 toReturn;
    }

    /// @notice Record the provider's closed, unproven periods and charge them to its bond; the reporter (the
    ///         caller) earns `reporterShareBps` of the penalty of the periods it reported. Reverts with
    ///         `MarketNoMissedPeriods` when there is nothing to report.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param currentPeriod The current period.
    /// @return c Tokens to move.
    function report(
        MarketLayout.Layout storage s,
        address provider,
        uint256 currentPeriod
    ) public returns (Charge memory c) {
        (uint32 from, uint32 count) = ProviderEpochs.recordMissedInline(s, provider, currentPeriod);
        if (count == 0) revert IStorageMarket.MarketNoMissedPeriods(provider, from, currentPeriod);
        charge(s, provider, count, msg.sender, c);
        emit IStorageMarket.MissedProofsReported(
            provider,
            from,
            count,
            msg.sender,
            c.toReporter,
            s.proofStates[provider].seedBlock
        );
    }

    /// @notice Charge periods recorded by changes, then refill the bond to full (a change that raised the
    ///         provider's collateral).
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @return c Tokens to move.
    function refill(MarketLayout.Layout storage s, address provider) public returns (Charge memory c) {
        charge(s, provider, 0, address(0), c);
        top(s, provider, c);
    }

    /// @notice Count a new data set of the provider, charge periods recorded by changes and refill the bond.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param c Tokens to move (filled in).
    function open(MarketLayout.Layout storage s, address provider, Charge memory c) internal {
        MarketLayout.ProofState storage st = s.proofStates[provider];
        uint32 openSets = st.openDataSets;
        // Periods missed while the provider had no data set open were not bonded: the bond starts from now.
        if (openSets == 0) st.chargedMissed = st.missedPeriods;
        // At most one data set per id, ids < 2^64; a provider cannot hold 2^32 data sets' worth of gas.
        unchecked {
            st.openDataSets = openSets + 1;
        }
        charge(s, provider, 0, address(0), c);
        top(s, provider, c);
    }

    /// @notice Count a finalized data set of the provider; the last one charges what is pending and releases
    ///         the rest of the bond.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param c Tokens to move (filled in).
    function close(MarketLayout.Layout storage s, address provider, Charge memory c) internal {
        MarketLayout.ProofState storage st = s.proofStates[provider];
        // Every finalized data set was counted when it was created.
        uint32 openSets = st.openDataSets - 1;
        st.openDataSets = openSets;
        if (openSets != 0) return;
        charge(s, provider, 0, address(0), c);
        MarketLayout.ProofBond storage b = s.bonds[provider];
        uint256 amount = b.amount;
        if (amount == 0) return;
        b.amount = 0;
        c.toReturn = amount;
        emit IStorageMarket.ProofBondReleased(provider, amount);
    }

    /// @notice Charge every missed period of the provider not yet charged: the `reported` newest at the reporter's
    ///         share, the others (recorded by changes) without; each costs `missedProofPenalty`, as far as the bond
    ///         goes.
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param reported How many of the newest periods the reporter reported.
    /// @param reporter The reporter (0 for none).
    /// @param c Tokens to move (added to).
    function charge(
        MarketLayout.Layout storage s,
        address provider,
        uint256 reported,
        address reporter,
        Charge memory c
    ) internal {
        uint256 periods = _takeUncharged(s.proofStates[provider]);
        if (periods == 0) return;
        MarketLayout.ProofBond storage b = s.bonds[provider];
        uint256 left = b.amount;
        if (left == 0) return;
        IStorageMarket.Parameters storage p = s.params;
        uint256 penalty = p.missedProofPenalty;
        // reported <= periods: the reported periods were just recorded and are not charged yet.
        uint256 silent = _min((periods - reported) * penalty, left);
        uint256 loud = _min(reported * penalty, left - silent);
        uint256 slashed = silent + loud;
        if (slashed == 0) return;
        // slashed <= left < 2^128.
        b.amount = uint128(left - slashed);
        uint256 toReporter = BasisPoints.share(loud, p.reporterShareBps);
        uint256 toTreasury = slashed - toReporter;
        c.toReporter += toReporter;
        c.toTreasury += toTreasury;
        emit IStorageMarket.ProofBondSlashed(provider, periods, slashed, reporter, toReporter, toTreasury);
    }

    /// @notice Refill the bond to `(maxFaults + 2) × missedProofPenalty` (a lower target leaves it as it is).
    /// @param s The market's storage.
    /// @param provider The provider.
    /// @param c Tokens to move (`toBond` set).
    function top(MarketLayout.Layout storage s, address provider, Charge memory c) internal {
        IStorageMarket.Parameters storage p = s.params;
        uint256 target = (uint256(p.maxFaults) + 2) * p.missedProofPenalty;
        MarketLayout.ProofBond storage b = s.bonds[provider];
        uint256 amount = b.amount;
        if (amount >= target) return;
        b.amount = SafeCast.toUint128(target);
        c.toBond = target - amount;
        emit IStorageMarket.ProofBondLocked(provider, c.toBond, target);
    }

    /// @dev Missed periods of the provider not yet charged, now marked charged.
    function _takeUncharged(MarketLayout.ProofState storage st) private returns (uint256 periods) {
        uint32 missed = st.missedPeriods;
        periods = missed - st.chargedMissed;
        if (periods != 0) st.chargedMissed = missed;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
