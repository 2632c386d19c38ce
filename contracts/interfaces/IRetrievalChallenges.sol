// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICreditLedger } from "./ICreditLedger.sol";
import { IGoverned } from "./IGoverned.sol";

// A retrieval challenge's id (1, 2, ...). Its own type so that a challenge id and a data set id, small integers
// passed side by side, cannot be swapped; it encodes as uint256, so the ABI is unchanged.
type ChallengeId is uint256;

/// @title IRetrievalChallenges
/// @notice On-chain retrieval challenges for live storage data sets. Anyone may challenge one leaf of a data set's
///         piece by posting a bond; the provider must answer on chain with the 64-byte leaf and its Merkle
///         path within the response window. An answered challenge pays the bond to the provider (so watchers
///         cannot grief providers for free); an unanswered one ends the data set through the storage market with
///         the whole collateral slashed (client compensation, challenger bounty, treasury share) and returns
///         the bond. See docs/SPEC.md, "Retrieval challenges". A pause (`IGoverned.pause`) stops new
///         challenges; answers, enforcement and withdrawals continue.
interface IRetrievalChallenges is ICreditLedger, IGoverned {
    // ------------------------------------------------------------------ types

    /// @notice Governance parameters; each has hard bounds in code.
    /// @param responseWindow Seconds the provider has to answer a challenge.
    /// @param bond Tokens the challenger posts per challenge.
    struct Parameters {
        uint32 responseWindow;
        uint128 bond;
    }

    /// @notice Where a challenge stands.
    enum Status {
        None,
        Open,
        Answered,
        Failed,
        Voided
    }

    /// @notice One challenge.
    /// @param dataSetId The challenged data set.
    /// @param provider The data set's provider.
    /// @param challenger Who opened it (gets the bond back and the bounty if the provider fails).
    /// @param leafIndex The challenged 64-byte leaf of the data set (< its span at opening).
    /// @param root The data set's root when the challenge was opened (the answer is checked against it).
    /// @param depth Path length expected: ceil(log2(span)) at opening.
    /// @param deadline Last timestamp at which the provider may answer.
    /// @param bond Tokens posted by the challenger.
    /// @param status Where it stands.
    struct Challenge {
        uint64 dataSetId;
        address provider;
        address challenger;
        uint64 leafIndex;
        bytes32 root;
        uint8 depth;
        uint64 deadline;
        uint128 bond;
        Status status;
    }

    // ------------------------------------------------------------------ events

    /// @notice A challenge was opened.
    /// @param challengeId Challenge id (1, 2, ...).
    /// @param dataSetId The data set.
    /// @param provider The data set's provider.
    /// @param challenger Who opened it.
    /// @param leafIndex Challenged leaf.
    /// @param deadline Last timestamp for the answer.
    /// @param bond Bond posted.
    event RetrievalChallengeOpened(
        ChallengeId indexed challengeId,
        uint64 indexed dataSetId,
        address indexed provider,
        address challenger,
        uint64 leafIndex,
        uint64 deadline,
        uint128 bond
    );

    /// @notice The provider answered; the bond was credited to it.
    /// @param challengeId Challenge id.
    /// @param dataSetId The data set.
    /// @param provider The provider.
    event RetrievalChallengeAnswered(
        ChallengeId indexed challengeId,
        uint64 indexed dataSetId,
        address indexed provider
    );

    /// @notice The deadline passed unanswered: the data set was ended by the market with its collateral slashed,
    ///         and the bond was credited back to the challenger.
    /// @param challengeId Challenge id.
    /// @param dataSetId The data set.
    /// @param provider The provider.
    /// @param enforcer Who called `enforceChallenge`.
    event RetrievalChallengeFailed(
        ChallengeId indexed challengeId,
        uint64 indexed dataSetId,
        address indexed provider,
        address enforcer
    );

    /// @notice The data set ended by another path before the challenge was resolved; the bond went back to the
    ///         challenger.
    /// @param challengeId Challenge id.
    /// @param dataSetId The data set.
    event RetrievalChallengeVoided(ChallengeId indexed challengeId, uint64 indexed dataSetId);

    /// @notice Parameters changed.
    /// @param params The new parameters.
    event ParametersSet(Parameters params);

    // ------------------------------------------------------------------ errors

    /// @notice The data set's terms do not match a live data set in the market.
    /// @param dataSetId The data set.
    error RetrievalUnknownDataSet(uint64 dataSetId);

    /// @notice The data set would end before the challenge's deadline (a challenge must be answerable and
    ///         enforceable while the data set is live; the deadline must fall before the start of `endPeriod`).
    /// @param dataSetId The data set.
    /// @param endPeriod First period after the data set.
    error RetrievalDataSetOver(uint64 dataSetId, uint32 endPeriod);

    /// @notice The leaf index is outside the piece.
    /// @param leafIndex Given index.
    /// @param leafCount Leaves in the piece.
    error RetrievalBadLeaf(uint64 leafIndex, uint256 leafCount);

    /// @notice The data set already has an open challenge.
    /// @param dataSetId The data set.
    /// @param challengeId The open challenge.
    error RetrievalAlreadyChallenged(uint64 dataSetId, ChallengeId challengeId);

    /// @notice The challenge is not open.
    /// @param challengeId Challenge id.
    /// @param status Its status.
    error RetrievalNotOpen(ChallengeId challengeId, Status status);

    /// @notice Answers are accepted only until the deadline; enforcement only after it.
    /// @param challengeId Challenge id.
    /// @param deadline The deadline.
    /// @param nowTs Current timestamp.
    error RetrievalWrongTime(ChallengeId challengeId, uint64 deadline, uint256 nowTs);

    /// @notice The given data set terms are not the challenged data set's.
    /// @param challengeId Challenge id.
    /// @param dataSetId The data set the terms name.
    error RetrievalDataSetMismatch(ChallengeId challengeId, uint64 dataSetId);

    /// @notice The leaf and path do not hash to the data set's root.
    /// @param challengeId Challenge id.
    /// @param leafIndex The challenged leaf.
    error RetrievalInvalidProof(ChallengeId challengeId, uint64 leafIndex);

    /// @notice The Merkle path has the wrong length for the piece.
    /// @param given Given length.
    /// @param expected Expected length.
    error RetrievalBadProofLength(uint256 given, uint256 expected);

    /// @notice Only the data set's provider answers.
    /// @param challengeId Challenge id.
    /// @param caller The caller.
    error RetrievalNotProvider(ChallengeId challengeId, address caller);

    /// @notice The challenger could not fund the bond from its balance here or its allowance.
    /// @param challenger The challenger.
    /// @param bond The bond.
    error RetrievalUnfunded(address challenger, uint256 bond);

    /// @notice A parameter is outside its hard bounds.
    /// @param name Parameter name.
    /// @param value Given value.
    /// @param min Lowest allowed.
    /// @param max Highest allowed.
    error RetrievalParameterOutOfBounds(string name, uint256 value, uint256 min, uint256 max);

    // ------------------------------------------------------------------ actions

    /// @notice Challenge leaf `leafIndex` of a live data set, posting the bond (from the caller's balance here if
    ///         it covers the bond, else pulled exactly from its allowance). One open challenge per data set; the
    ///         deadline (`now + responseWindow`) must fall before the data set's end. Blocked while paused.
    /// @param dataSetId The data set (live or ending).
    /// @param leafIndex Leaf to challenge (< the data set's current span).
    /// @return challengeId The new challenge's id.
    function openChallenge(uint64 dataSetId, uint64 leafIndex) external returns (ChallengeId challengeId);

    /// @notice Answer an open challenge with the leaf and its Merkle path before the deadline. Provider only;
    ///         never blocked by a pause. Credits the bond to the provider.
    /// @param challengeId Challenge id.
    /// @param leaf The challenged 64-byte leaf.
    /// @param path Merkle authentication path, bottom up.
    function answerChallenge(
        ChallengeId challengeId,
        bytes32[2] calldata leaf,
        bytes32[] calldata path
    ) external;

    /// @notice After the deadline of an unanswered challenge: end the data set in the market with its collateral
    ///         slashed (EndReason.RetrievalFailed) and credit the bond back to the challenger. If the data set
    ///         already ended by another path, void the challenge instead (bond back). Anyone may call; never
    ///         blocked by a pause.
    /// @param challengeId Challenge id.
    function enforceChallenge(ChallengeId challengeId) external;

    /// @notice Set the parameters (bounded). Parameter role only.
    /// @param params The parameters.
    function setParameters(Parameters calldata params) external;

    // ------------------------------------------------------------------ views

    /// @notice The storage market whose data sets are challenged.
    /// @return The market address.
    function market() external view returns (address);

    /// @notice The current parameters.
    /// @return The parameters.
    function parameters() external view returns (Parameters memory);

    /// @notice Deployment cap on the bond parameter (governance sets the bond within [1, maxBond]).
    /// @return The cap, in token base units.
    function maxBond() external view returns (uint256);

    /// @notice A challenge by id.
    /// @param challengeId Challenge id.
    /// @return The challenge (status None if unknown).
    function challengeOf(ChallengeId challengeId) external view returns (Challenge memory);

    /// @notice The open challenge of a data set, 0 if none.
    /// @param dataSetId The data set.
    /// @return The challenge id.
    function openChallengeOf(uint64 dataSetId) external view returns (ChallengeId);

    /// @notice Number of challenges ever opened (the last id).
    /// @return The count.
    function challengeCount() external view returns (uint256);
}
