// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";
import { BasisPoints } from "../../payments/libraries/BasisPoints.sol";
import { MarketLayout } from "./MarketLayout.sol";

/// @title StorageParams
/// @notice Hard bounds of every storage-market parameter. Governance can move a parameter only inside them; setting
///         them (validated, stored, `ParametersSet`) is here too, out of the market's code.
/// @dev Deployed and linked (public functions) to keep the market under the 24 KiB code-size limit.
library StorageParams {
    /// @notice Shortest proving period (seconds).
    uint256 internal constant MIN_PROVING_PERIOD = 60;
    /// @notice Longest proving period (seconds).
    uint256 internal constant MAX_PROVING_PERIOD = 30 days;
    /// @notice Shortest proof window (seconds).
    uint256 internal constant MIN_PROOF_WINDOW = 30;
    /// @notice Most challenges per proof.
    uint256 internal constant MAX_CHALLENGES = 16;
    /// @notice Most blocks between fixing a seed block and using its hash (kept well inside BLOCKHASH's 256).
    uint256 internal constant MAX_CHALLENGE_FINALITY = 128;
    /// @notice Highest fault threshold.
    uint256 internal constant MAX_FAULTS = 100;
    /// @notice Highest per-missed-period penalty (bps of collateral).
    uint256 internal constant MAX_MISSED_PENALTY_BPS = 5_000;
    /// @notice Highest fault-termination bounty (bps of collateral).
    uint256 internal constant MAX_BOUNTY_BPS = 2_000;
    /// @notice Highest treasury share (bps of a slash).
    uint256 internal constant MAX_TREASURY_BPS = 5_000;
    /// @notice Highest reporter share (bps of a missed-proof penalty): below 100%, so self-reporting loses.
    uint256 internal constant MAX_REPORTER_SHARE_BPS = 5_000;
    /// @notice Smallest accepted limit on data set size (1 MiB).
    uint256 internal constant MIN_DATA_SET_LIMIT = 1 << 20;
    /// @notice Largest accepted limit on data set size (8 PiB: span 2^47 leaves, the highest size class).
    uint256 internal constant MAX_DATA_SET_LIMIT = 1 << 53;
    /// @notice Longest accepted notice (periods).
    uint256 internal constant MAX_NOTICE_LIMIT = 10_000;

    /// @notice Validate and store the market's parameters, then emit `ParametersSet` (the market's constructor).
    /// @param s The market's storage.
    /// @param p The parameters.
    /// @param provingPeriod The market's proving period.
    /// @param maxMissedProofPenalty The deployment's cap on the missed-proof penalty.
    function set(
        MarketLayout.Layout storage s,
        IStorageMarket.Parameters memory p,
        uint256 provingPeriod,
        uint256 maxMissedProofPenalty
    ) public {
        _set(s, p, provingPeriod, maxMissedProofPenalty);
    }

    /// @notice `set` from the ABI encoding of `(Parameters)`: the market's `setParameters` call data after its
    ///         selector, passed as it is so that the market holds no code to decode and re-encode the struct.
    /// @param s The market's storage.
    /// @param encoded The ABI encoding of `(Parameters)`.
    /// @param provingPeriod The market's proving period.
    /// @param maxMissedProofPenalty The deployment's cap on the missed-proof penalty.
    function setEncoded(
        MarketLayout.Layout storage s,
        bytes calldata encoded,
        uint256 provingPeriod,
        uint256 maxMissedProofPenalty
    ) public {
        _set(s, abi.decode(encoded, (IStorageMarket.Parameters)), provingPeriod, maxMissedProofPenalty);
    }

    function _set(
        MarketLayout.Layout storage s,
        IStorageMarket.Parameters memory p,
        uint256 provingPeriod,
        uint256 maxMissedProofPenalty
    ) private {
        validate(p, provingPeriod, maxMissedProofPenalty);
        // Field by field: the bits above the fields (the pause flag, the treasury's pending credit) are kept.
        s.params = p;
        emit IStorageMarket.ParametersSet(p);
    }

    /// @notice Revert unless every field of `p` is within its bounds.
    /// @param p The parameters.
    /// @param provingPeriod The market's proving period.
    /// @param maxMissedProofPenalty The deployment's cap on the missed-proof penalty.
    function validate(
        IStorageMarket.Parameters memory p,
        uint256 provingPeriod,
        uint256 maxMissedProofPenalty
    ) public pure {
        _check("proofWindow", p.proofWindow, MIN_PROOF_WINDOW, provingPeriod);
        _check("challengeCount", p.challengeCount, 1, MAX_CHALLENGES);
        _check("challengeFinality", p.challengeFinality, 1, MAX_CHALLENGE_FINALITY);
        _check("maxFaults", p.maxFaults, 1, MAX_FAULTS);
        _check("missedFaultPenaltyBps", p.missedFaultPenaltyBps, 0, MAX_MISSED_PENALTY_BPS);
        _check("declaredFaultPenaltyBps", p.declaredFaultPenaltyBps, 0, p.missedFaultPenaltyBps);
        _check("providerTerminationFeeBps", p.providerTerminationFeeBps, 0, BasisPoints.BPS);
        _check("faultTerminationBountyBps", p.faultTerminationBountyBps, 0, MAX_BOUNTY_BPS);
        _check("treasuryShareBps", p.treasuryShareBps, 0, MAX_TREASURY_BPS);
        _check("maxNoticePeriods", p.maxNoticePeriods, 0, MAX_NOTICE_LIMIT);
        _check("maxDataSetSize", p.maxDataSetSize, MIN_DATA_SET_LIMIT, MAX_DATA_SET_LIMIT);
        _check("missedProofPenalty", p.missedProofPenalty, 0, maxMissedProofPenalty);
        _check("reporterShareBps", p.reporterShareBps, 0, MAX_REPORTER_SHARE_BPS);
    }

    /// @notice Revert unless `period` is an accepted proving period length.
    /// @param period The length in seconds.
    function validateProvingPeriod(uint256 period) public pure {
        _check("provingPeriod", period, MIN_PROVING_PERIOD, MAX_PROVING_PERIOD);
    }

    function _check(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max)
            revert IStorageMarket.MarketParameterOutOfBounds(name, value, min, max);
    }
}
