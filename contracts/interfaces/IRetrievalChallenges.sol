// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICreditLedger } from "./ICreditLedger.sol";
import { IGoverned } from "./IGoverned.sol";
import { IStorageMarket } from "./IStorageMarket.sol";

// A retrieval challenge's id (1, 2, ...). Its own type so that a challenge id and a deal id, small integers passed
// side by side, cannot be swapped; it encodes as uint256, so the ABI is unchanged.
type ChallengeId is uint256;

/// @title IRetrievalChallenges
/// @notice On-chain retrieval challenges for live storage deals. Anyone may challenge one leaf of a deal's
///         piece by posting a bond; the provider must answer on chain with the 64-byte leaf and its Merkle
///         path within the response window. An answered challenge pays the bond to the provider (so watchers
///         cannot grief providers for free); an unanswered one ends the deal through the storage market with
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
    /// @param dealId The challenged deal.
    /// @param provider The deal's provider.
    /// @param challenger Who opened it (gets the bond back and the bounty if the provider fails).
    /// @param leafIndex The challenged 64-byte leaf of the piece.
    /// @param deadline Last timestamp at which the provider may answer.
    /// @param bond Tokens posted by the challenger.
    /// @param status Where it stands.
    struct Challenge {
        uint64 dealId;
        address provider;
        address challenger;
        uint64 leafIndex;
        uint64 deadline;
        uint128 bond;
        Status status;
    }

    // ------------------------------------------------------------------ events

    /// @notice A challenge was opened.
    /// @param challengeId Challenge id (1, 2, ...).
    /// @param dealId The deal.
    /// @param provider The deal's provider.
    /// @param challenger Who opened it.
    /// @param leafIndex Challenged leaf.
    /// @param deadline Last timestamp for the answer.
    /// @param bond Bond posted.
    event RetrievalChallengeOpened(
        ChallengeId indexed challengeId,
        uint64 indexed dealId,
        address indexed provider,
        address challenger,
        uint64 leafIndex,
        uint64 deadline,
        uint128 bond
    );

    /// @notice The provider answered; the bond was credited to it.
    /// @param challengeId Challenge id.
    /// @param dealId The deal.
    /// @param provider The provider.
    event RetrievalChallengeAnswered(
        ChallengeId indexed challengeId,
        uint64 indexed dealId,
        address indexed provider
    );

    /// @notice The deadline passed unanswered: the deal was ended by the market with its collateral slashed,
    ///         and the bond was credited back to the challenger.
    /// @param challengeId Challenge id.
    /// @param dealId The deal.
    /// @param provider The provider.
    /// @param enforcer Who called `enforceChallenge`.
    event RetrievalChallengeFailed(
        ChallengeId indexed challengeId,
        uint64 indexed dealId,
        address indexed provider,
        address enforcer
    );

    /// @notice The deal ended by another path before the challenge was resolved; the bond went back to the
    ///         challenger.
    /// @param challengeId Challenge id.
    /// @param dealId The deal.
    event RetrievalChallengeVoided(ChallengeId indexed challengeId, uint64 indexed dealId);

    /// @notice Parameters changed.
    /// @param params The new parameters.
    event ParametersSet(Parameters params);

    // ------------------------------------------------------------------ errors

    /// @notice The deal's terms do not match a live deal in the market.
    /// @param dealId The deal.
    error RetrievalUnknownDeal(uint64 dealId);

    /// @notice The deal would end before the challenge's deadline (a challenge must be answerable and
    ///         enforceable while the deal is live; the deadline must fall before the start of `endPeriod`).
    /// @param dealId The deal.
    /// @param endPeriod First period after the deal.
    error RetrievalDealOver(uint64 dealId, uint32 endPeriod);

    /// @notice The leaf index is outside the piece.
    /// @param leafIndex Given index.
    /// @param leafCount Leaves in the piece.
    error RetrievalBadLeaf(uint64 leafIndex, uint256 leafCount);

    /// @notice The deal already has an open challenge.
    /// @param dealId The deal.
    /// @param challengeId The open challenge.
    error RetrievalAlreadyChallenged(uint64 dealId, ChallengeId challengeId);

    /// @notice The challenge is not open.
    /// @param challengeId Challenge id.
    /// @param status Its status.
    error RetrievalNotOpen(ChallengeId challengeId, Status status);

    /// @notice Answers are accepted only until the deadline; enforcement only after it.
    /// @param challengeId Challenge id.
    /// @param deadline The deadline.
    /// @param nowTs Current timestamp.
    error RetrievalWrongTime(ChallengeId challengeId, uint64 deadline, uint256 nowTs);

    /// @notice The given deal terms are not the challenged deal's.
    /// @param challengeId Challenge id.
    /// @param dealId The deal the terms name.
    error RetrievalDealMismatch(ChallengeId challengeId, uint64 dealId);

    /// @notice The leaf and path do not hash to the deal's root.
    /// @param challengeId Challenge id.
    /// @param leafIndex The challenged leaf.
    error RetrievalInvalidProof(ChallengeId challengeId, uint64 leafIndex);

    /// @notice The Merkle path has the wrong length for the piece.
    /// @param given Given length.
    /// @param expected Expected length.
    error RetrievalBadProofLength(uint256 given, uint256 expected);

    /// @notice Only the deal's provider answers.
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

    /// @notice Challenge leaf `leafIndex` of a live deal, posting the bond (from the caller's balance here if
    ///         it covers the bond, else pulled exactly from its allowance). One open challenge per deal; the
    ///         deadline (`now + responseWindow`) must fall before the deal's end. Blocked while paused.
    /// @param deal The deal's terms (from `DealPublished`, with the latest `DealExtended` end period).
    /// @param leafIndex Leaf to challenge (< ceil(size / 64)).
    /// @return challengeId The new challenge's id.
    function openChallenge(
        IStorageMarket.Deal calldata deal,
        uint64 leafIndex
    ) external returns (ChallengeId challengeId);

    /// @notice Answer an open challenge with the leaf and its Merkle path before the deadline. Provider only;
    ///         never blocked by a pause. Credits the bond to the provider.
    /// @param challengeId Challenge id.
    /// @param deal The deal's current terms.
    /// @param leaf The challenged 64-byte leaf.
    /// @param path Merkle authentication path, bottom up.
    function answerChallenge(
        ChallengeId challengeId,
        IStorageMarket.Deal calldata deal,
        bytes32[2] calldata leaf,
        bytes32[] calldata path
    ) external;

    /// @notice After the deadline of an unanswered challenge: end the deal in the market with its collateral
    ///         slashed (EndReason.RetrievalFailed) and credit the bond back to the challenger. If the deal
    ///         already ended by another path, void the challenge instead (bond back). Anyone may call; never
    ///         blocked by a pause.
    /// @param challengeId Challenge id.
    /// @param deal The deal's current terms (ignored when the deal no longer exists).
    function enforceChallenge(ChallengeId challengeId, IStorageMarket.Deal calldata deal) external;

    /// @notice Set the parameters (bounded). Parameter role only.
    /// @param params The parameters.
    function setParameters(Parameters calldata params) external;

    // ------------------------------------------------------------------ views

    /// @notice The storage market whose deals are challenged.
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

    /// @notice The open challenge of a deal, 0 if none.
    /// @param dealId The deal.
    /// @return The challenge id.
    function openChallengeOf(uint64 dealId) external view returns (ChallengeId);

    /// @notice Number of challenges ever opened (the last id).
    /// @return The count.
    function challengeCount() external view returns (uint256);
}
