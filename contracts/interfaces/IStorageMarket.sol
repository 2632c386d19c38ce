// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICreditLedger } from "./ICreditLedger.sol";
import { IMarketGovernance } from "./IMarketGovernance.sol";

/// @title IStorageMarket
/// @notice Storage deals between clients and providers: EIP-712 proposals published by providers,
///         per-second payment streams from prepaid escrow, one proof of storage per provider per proving
///         period, faults, slashing, termination and extension. See docs/SPEC.md for the rules.
///         A pause (`IGoverned.pause`) stops new deals and extensions; settlement, proofs, termination and
///         withdrawals continue.
interface IStorageMarket is ICreditLedger, IMarketGovernance {
    // ------------------------------------------------------------------ types

    /// @notice What a client signs (EIP-712 type `DealProposal`).
    /// @param client Who pays; the signer.
    /// @param provider Who stores and proves; the only address that may publish the proposal.
    /// @param root SHA-256 Merkle root of the piece (see MerkleSha256).
    /// @param size Piece size in bytes.
    /// @param duration Deal length in seconds; a whole number of proving periods.
    /// @param pricePerSecond Tokens streamed to the provider per second of proven storage.
    /// @param collateral Provider stake locked for the deal.
    /// @param startDeadline Latest timestamp at which the proposal may be published.
    /// @param nonce Client nonce; each nonce publishes at most once and can be cancelled.
    struct DealProposal {
        address client;
        address provider;
        bytes32 root;
        uint64 size;
        uint64 duration;
        uint128 pricePerSecond;
        uint128 collateral;
        uint64 startDeadline;
        uint64 nonce;
    }

    /// @notice A proposal with the client's signature (65-byte ECDSA, or ERC-1271 for contract clients).
    /// @param proposal The proposal.
    /// @param signature The client's signature over its EIP-712 digest.
    struct SignedProposal {
        DealProposal proposal;
        bytes signature;
    }

    /// @notice A published deal's immutable terms. Only a 160-bit commitment is stored; callers pass the
    ///         terms (from the `DealPublished` event) and the market checks them against the commitment.
    /// @param id Deal id.
    /// @param client Client.
    /// @param provider Provider.
    /// @param root Piece Merkle root.
    /// @param size Piece size in bytes.
    /// @param startPeriod First paid proving period.
    /// @param endPeriod First proving period after the deal.
    /// @param pricePerSecond Price per second.
    /// @param collateral Locked provider collateral.
    struct Deal {
        uint64 id;
        address client;
        address provider;
        bytes32 root;
        uint64 size;
        uint32 startPeriod;
        uint32 endPeriod;
        uint128 pricePerSecond;
        uint128 collateral;
    }

    /// @notice Answer to one challenge of a proof. For a challenge that lands on a deal declared faulty
    ///         for the period, pass an empty entry (all zero, empty path).
    /// @param root The challenged deal's piece root.
    /// @param meta `size | endPeriod << 64` of the challenged deal.
    /// @param partiesHash `keccak256(abi.encode(id, client, provider, startPeriod, pricePerSecond, collateral))`.
    /// @param leaf The challenged 64-byte leaf.
    /// @param path Merkle authentication path, bottom up.
    struct ChallengeProof {
        bytes32 root;
        uint256 meta;
        bytes32 partiesHash;
        bytes32[2] leaf;
        bytes32[] path;
    }

    /// @notice A client's signed agreement to extend a live deal (EIP-712 type `DealExtension`).
    /// @param dealId The deal.
    /// @param newEndPeriod New end period (later than the current one).
    /// @param nonce Client nonce (same nonce space as proposals).
    /// @param deadline Latest timestamp at which it may be used.
    struct DealExtension {
        uint64 dealId;
        uint32 newEndPeriod;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice A provider's proving state.
    /// @param nextPeriod First proving period not yet resolved (proven or reported missed).
    /// @param activeDeals Number of deals the provider must prove.
    /// @param seedBlock Block whose hash seeds the challenges of `nextPeriod`.
    /// @param missedPeriods Total periods reported missed.
    /// @param seedRefreshedPeriod Period + 1 in which the seed was last refreshed (0 = never).
    /// @param challengeable Length of the active list when the seed block was scheduled: challenges draw
    ///        from these positions only, so deals published after the seed is fixed cannot re-draw them.
    struct ProviderProofState {
        uint32 nextPeriod;
        uint32 activeDeals;
        uint64 seedBlock;
        uint32 missedPeriods;
        uint32 seedRefreshedPeriod;
        uint32 challengeable;
    }

    /// @notice Governance parameters; every field has hard bounds in `StorageParams`.
    /// @param proofWindow Seconds at the end of each period during which its proof is accepted.
    /// @param challengeCount Challenges per proof.
    /// @param challengeFinality Blocks between fixing a seed block and its hash being usable.
    /// @param maxFaults Faults (missed + declared) after which a deal may be terminated for faults.
    /// @param missedFaultPenaltyBps Collateral forfeited to the client per missed period, in bps.
    /// @param declaredFaultPenaltyBps Collateral forfeited to the client per declared fault, in bps.
    /// @param providerTerminationFeeBps Collateral paid to the client when the provider terminates early.
    /// @param faultTerminationBountyBps Share of a fault-terminated deal's collateral paid to the caller.
    /// @param treasuryShareBps Share of every slash sent to the treasury.
    /// @param minDealPeriods Shortest deal, in periods.
    /// @param maxDealPeriods Longest deal, in periods.
    /// @param maxPieceSize Largest piece, in bytes.
    /// @param missedProofBounty Tokens taken from the provider's unlocked stake per missed period for the reporter.
    struct Parameters {
        uint32 proofWindow;
        uint16 challengeCount;
        uint16 challengeFinality;
        uint8 maxFaults;
        uint16 missedFaultPenaltyBps;
        uint16 declaredFaultPenaltyBps;
        uint16 providerTerminationFeeBps;
        uint16 faultTerminationBountyBps;
        uint16 treasuryShareBps;
        uint32 minDealPeriods;
        uint32 maxDealPeriods;
        uint64 maxPieceSize;
        uint128 missedProofBounty;
    }

    /// @notice Why a proposal in a batch was skipped instead of published.
    enum SkipReason {
        NonceUsed,
        Unfunded
    }

    /// @notice How a deal ended.
    enum EndReason {
        Expired,
        ClientTerminated,
        ProviderTerminated,
        TooManyFaults,
        RetrievalFailed
    }

    // ------------------------------------------------------------------ events

    /// @notice Emitted when a deal is published; carries every term needed to act on the deal later.
    /// @param id Deal id.
    /// @param client Client.
    /// @param provider Provider.
    /// @param root Piece root.
    /// @param size Piece size.
    /// @param startPeriod First paid period.
    /// @param endPeriod First period after the deal.
    /// @param pricePerSecond Price per second.
    /// @param collateral Locked collateral.
    /// @param nonce The proposal's nonce.
    event DealPublished(
        uint64 indexed id,
        address indexed client,
        address indexed provider,
        bytes32 root,
        uint64 size,
        uint32 startPeriod,
        uint32 endPeriod,
        uint128 pricePerSecond,
        uint128 collateral,
        uint64 nonce
    );
    /// @notice Emitted when a proposal in a batch is skipped (the rest of the batch still publishes).
    /// @param client The proposal's client.
    /// @param nonce The proposal's nonce.
    /// @param reason Why.
    event DealSkipped(address indexed client, uint64 nonce, SkipReason reason);
    /// @notice Emitted when a deal's stream is settled.
    /// @param id Deal id.
    /// @param amount Tokens credited to the provider (`amount / pricePerSecond` more seconds are now paid).
    event DealSettled(uint64 indexed id, uint256 amount);
    /// @notice Emitted when a deal is extended.
    /// @param id Deal id.
    /// @param newEndPeriod New end period.
    /// @param amount Tokens added to escrow.
    event DealExtended(uint64 indexed id, uint32 newEndPeriod, uint256 amount);
    /// @notice Emitted when a deal ends and its escrow and collateral are distributed.
    /// @param id Deal id.
    /// @param reason How it ended.
    /// @param paidToProvider Final payment credited to the provider.
    /// @param refundedToClient Unstreamed escrow credited back to the client.
    /// @param compensationToClient Slashed collateral credited to the client.
    /// @param collateralReleased Collateral returned to the provider's free stake.
    event DealEnded(
        uint64 indexed id,
        EndReason reason,
        uint256 paidToProvider,
        uint256 refundedToClient,
        uint256 compensationToClient,
        uint256 collateralReleased
    );
    /// @notice Emitted when slashed collateral is split.
    /// @param provider The slashed provider.
    /// @param dealId The deal (0 for a missed-proof bounty).
    /// @param toHarmed Compensation to the client.
    /// @param toReporter Bounty to the reporter.
    /// @param toTreasury Treasury share.
    event Slashed(
        address indexed provider,
        uint64 indexed dealId,
        uint256 toHarmed,
        uint256 toReporter,
        uint256 toTreasury
    );
    /// @notice Emitted when a provider proves a period.
    /// @param provider The provider.
    /// @param period The period proven.
    /// @param nextSeedBlock Block whose hash seeds the next period's challenges.
    event ProofSubmitted(address indexed provider, uint32 indexed period, uint64 nextSeedBlock);
    /// @notice Emitted when a provider declares a deal faulty for a period before its challenges are known.
    /// @param provider The provider.
    /// @param period The period.
    /// @param dealId The deal.
    event FaultDeclared(address indexed provider, uint32 indexed period, uint64 indexed dealId);
    /// @notice Emitted when missed proving periods are reported.
    /// @param provider The provider.
    /// @param fromPeriod First missed period.
    /// @param count Number of consecutive missed periods.
    /// @param reporter Who reported.
    /// @param bounty Bounty credited to the reporter (taken from the provider's unlocked stake).
    /// @param nextSeedBlock Block whose hash seeds the provider's next challenges.
    event MissedProofsReported(
        address indexed provider,
        uint32 fromPeriod,
        uint32 count,
        address indexed reporter,
        uint256 bounty,
        uint64 nextSeedBlock
    );
    /// @notice Emitted when a provider's challenge seed block is set anew.
    /// @param provider The provider.
    /// @param period The period the seed is for.
    /// @param seedBlock The new seed block.
    event ChallengeSeedScheduled(address indexed provider, uint32 indexed period, uint64 seedBlock);
    /// @notice Emitted when a client cancels a nonce.
    /// @param client The client.
    /// @param nonce The nonce.
    event NonceCancelled(address indexed client, uint64 nonce);
    /// @notice Emitted when parameters change.
    /// @param params The new parameters.
    event ParametersSet(Parameters params);

    // ------------------------------------------------------------------ errors

    /// @notice Only the proposal's provider may publish it.
    /// @param provider The proposal's provider.
    /// @param caller The caller.
    error MarketNotProposalProvider(address provider, address caller);
    /// @notice The proposal's start deadline has passed.
    /// @param deadline The deadline.
    /// @param nowTs Current timestamp.
    error MarketProposalExpired(uint64 deadline, uint256 nowTs);
    /// @notice The signature does not belong to the client.
    /// @param client The expected signer.
    error MarketBadSignature(address client);
    /// @notice The piece size is zero or above the limit.
    /// @param size Size given.
    /// @param maxSize Largest accepted.
    error MarketBadPieceSize(uint64 size, uint64 maxSize);
    /// @notice The duration is not a whole number of periods within bounds.
    /// @param duration Duration given, in seconds.
    /// @param period Proving period length.
    /// @param minPeriods Shortest deal in periods.
    /// @param maxPeriods Longest deal in periods.
    error MarketBadDuration(uint64 duration, uint256 period, uint32 minPeriods, uint32 maxPeriods);
    /// @notice The price is zero.
    error MarketZeroPrice();
    /// @notice The batch is empty or larger than the limit.
    /// @param length Batch length.
    /// @param maxLength Largest accepted.
    error MarketBadBatchSize(uint256 length, uint256 maxLength);
    /// @notice The provider has closed proving periods that are neither proven nor reported; report them first.
    /// @param provider The provider.
    /// @param nextPeriod First unresolved period.
    /// @param currentPeriod Current period.
    error MarketUnresolvedPeriods(address provider, uint32 nextPeriod, uint256 currentPeriod);
    /// @notice The caller is not a registered provider.
    /// @param provider The caller.
    error MarketNotRegistered(address provider);
    /// @notice The provider already has the most deals one list can index.
    /// @param provider The provider.
    error MarketTooManyDeals(address provider);
    /// @notice The deal terms do not match the stored commitment (or the deal does not exist).
    /// @param id Deal id.
    error MarketUnknownDeal(uint64 id);
    /// @notice The caller may not do this to the deal.
    /// @param id Deal id.
    /// @param caller The caller.
    error MarketNotDealParty(uint64 id, address caller);
    /// @notice The deal has not reached its end (or its last period is not yet resolved).
    /// @param id Deal id.
    /// @param endPeriod Deal end period.
    /// @param resolvedUntil First unresolved period of its provider.
    error MarketDealNotOver(uint64 id, uint32 endPeriod, uint32 resolvedUntil);
    /// @notice The deal has already ended in time; finalize it instead.
    /// @param id Deal id.
    /// @param endPeriod Deal end period.
    error MarketDealOver(uint64 id, uint32 endPeriod);
    /// @notice The deal has fewer faults than the termination threshold.
    /// @param id Deal id.
    /// @param faults Faults so far.
    /// @param maxFaults Threshold.
    error MarketNotEnoughFaults(uint64 id, uint256 faults, uint8 maxFaults);
    /// @notice The proof is for a period other than the provider's next unresolved one.
    /// @param period Period given.
    /// @param expected The provider's next period.
    error MarketWrongPeriod(uint32 period, uint32 expected);
    /// @notice The proof arrived outside the period's proof window.
    /// @param opensAt Window opening time.
    /// @param closesAt Window closing time (exclusive).
    /// @param nowTs Current timestamp.
    error MarketOutsideProofWindow(uint256 opensAt, uint256 closesAt, uint256 nowTs);
    /// @notice The challenge seed is not yet available (its block is not yet mined).
    /// @param seedBlock The seed block.
    /// @param currentBlock The current block.
    error MarketSeedNotReady(uint64 seedBlock, uint256 currentBlock);
    /// @notice The seed block's hash is no longer readable; schedule a new seed with `refreshChallengeSeed`.
    /// @param seedBlock The seed block.
    error MarketSeedExpired(uint64 seedBlock);
    /// @notice The seed is still readable, or was already refreshed this period.
    /// @param seedBlock The seed block.
    error MarketSeedRefreshNotAllowed(uint64 seedBlock);
    /// @notice The number of challenge answers differs from the challenge count.
    /// @param given Answers given.
    /// @param expected Challenge count.
    error MarketWrongChallengeCount(uint256 given, uint256 expected);
    /// @notice A challenge answer does not match the challenged deal's commitment.
    /// @param challenge Challenge index.
    /// @param dealId The challenged deal.
    error MarketChallengeTermsMismatch(uint256 challenge, uint64 dealId);
    /// @notice A challenged deal has ended; finalize it, then prove.
    /// @param dealId The deal.
    /// @param endPeriod Its end period.
    error MarketChallengedDealEnded(uint64 dealId, uint32 endPeriod);
    /// @notice The Merkle path has the wrong length for the piece size.
    /// @param challenge Challenge index.
    /// @param given Path length given.
    /// @param expected Tree depth.
    error MarketBadProofLength(uint256 challenge, uint256 given, uint256 expected);
    /// @notice The Merkle path does not lead to the deal's root.
    /// @param challenge Challenge index.
    /// @param dealId The challenged deal.
    /// @param leafIndex The challenged leaf.
    error MarketInvalidProof(uint256 challenge, uint64 dealId, uint256 leafIndex);
    /// @notice The provider has nothing to prove.
    /// @param provider The provider.
    error MarketNothingToProve(address provider);
    /// @notice Faults for the next period can no longer be declared: its seed block has been mined.
    /// @param seedBlock The seed block.
    /// @param currentBlock The current block.
    error MarketDeclarationClosed(uint64 seedBlock, uint256 currentBlock);
    /// @notice The deal is not one of the caller's active deals.
    /// @param dealId The deal.
    /// @param provider The caller.
    error MarketNotProviderDeal(uint64 dealId, address provider);
    /// @notice The deal was already declared faulty for this period.
    /// @param dealId The deal.
    /// @param period The period.
    error MarketAlreadyDeclared(uint64 dealId, uint32 period);
    /// @notice The deal cannot take more declared faults; it can be terminated for faults.
    /// @param dealId The deal.
    error MarketFaultLimitReached(uint64 dealId);
    /// @notice No closed proving period of the provider is unresolved.
    /// @param provider The provider.
    /// @param nextPeriod First unresolved period.
    /// @param currentPeriod Current period.
    error MarketNoMissedPeriods(address provider, uint32 nextPeriod, uint256 currentPeriod);
    /// @notice The nonce was already used or cancelled.
    /// @param client The client.
    /// @param nonce The nonce.
    error MarketNonceUsed(address client, uint64 nonce);
    /// @notice The extension is malformed or expired.
    /// @param dealId The deal.
    error MarketBadExtension(uint64 dealId);
    /// @notice The client could not fund an extension.
    /// @param client The client.
    /// @param amount Amount needed.
    error MarketUnfunded(address client, uint256 amount);
    /// @notice A parameter is outside its hard bounds.
    /// @param name Parameter name.
    /// @param value Value given.
    /// @param min Lowest accepted.
    /// @param max Highest accepted.
    error MarketParameterOutOfBounds(string name, uint256 value, uint256 min, uint256 max);
    /// @notice The market's token is not the registry's token.
    /// @param marketToken Market token.
    /// @param registryToken Registry token.
    error MarketTokenMismatch(address marketToken, address registryToken);

    // ------------------------------------------------------------------ deals

    /// @notice Publish signed proposals addressed to the caller. Proposals whose nonce is spent or whose
    ///         client cannot pay are skipped with `DealSkipped`; any other defect reverts the batch.
    ///         Escrow is taken from the client's ledger balance if it covers the deal, else pulled from its
    ///         allowance. Collateral for the batch is locked once. Blocked while paused.
    /// @param proposals Signed proposals (1..MAX_BATCH).
    /// @return published Number of deals published.
    function publishDeals(SignedProposal[] calldata proposals) external returns (uint256 published);

    /// @notice Submit a client's EIP-2612 permit for this market (pair with `publishDeals` in a `multicall`).
    ///         A permit that fails (e.g. already used by a front-runner) is ignored.
    /// @param client Token owner.
    /// @param value Allowance.
    /// @param deadline Permit deadline.
    /// @param v Signature v.
    /// @param r Signature r.
    /// @param s Signature s.
    function permitClient(
        address client,
        uint256 value,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external;

    /// @notice Cancel one of the caller's unused nonces.
    /// @param nonce The nonce.
    function cancelNonce(uint64 nonce) external;

    /// @notice Credit the provider with everything the deal has streamed so far (net of faults). Anyone may call.
    /// @param deal The deal's terms.
    /// @return amount Tokens credited.
    function settleDeal(Deal calldata deal) external returns (uint256 amount);

    /// @notice `settleDeal` with a hint that makes the fault-log lookup O(1): the number of the provider's
    ///         missed-period runs (one per `MissedProofsReported` event that did not extend the previous run)
    ///         that start before `deal.startPeriod`. A wrong hint only costs gas: the market then searches.
    /// @param deal The deal's terms.
    /// @param faultRunHint Number of fault runs starting at or before `deal.startPeriod - 1`.
    /// @return amount Tokens credited.
    function settleDealWithHint(Deal calldata deal, uint256 faultRunHint) external returns (uint256 amount);

    /// @notice End a live deal early. The client gets its unstreamed escrow back; a provider who terminates
    ///         also pays the termination fee from its collateral to the client.
    /// @param deal The deal's terms.
    function terminateDeal(Deal calldata deal) external;

    /// @notice Close a deal whose last period is resolved: final payment, refund of faulted time, fault
    ///         penalties to the client, collateral back to the provider. Anyone may call.
    /// @param deal The deal's terms.
    function finalizeDeal(Deal calldata deal) external;

    /// @notice Terminate a deal that reached `maxFaults`: its whole collateral is slashed to the client,
    ///         with a bounty to the caller and the treasury share. Anyone may call.
    /// @param deal The deal's terms.
    function terminateFaultyDeal(Deal calldata deal) external;

    /// @notice End a deal whose provider failed to answer a retrieval challenge in time
    ///         (`EndReason.RetrievalFailed`): like `terminateFaultyDeal`, the whole collateral is slashed to the
    ///         client, with the `faultTerminationBountyBps` share to `challenger` and the treasury share.
    ///         Callable only by the retrieval-challenge contract (`RETRIEVAL_ROLE`), which checks the
    ///         challenge; never blocked by a pause.
    /// @param deal The deal's terms.
    /// @param challenger Who opened the failed challenge; credited the bounty in this market's ledger.
    function failRetrieval(Deal calldata deal, address challenger) external;

    /// @notice Extend a live deal with the client's signed consent; the client pays the added time.
    ///         Provider only. Blocked while paused.
    /// @param deal The deal's terms.
    /// @param extension The signed extension.
    /// @param signature The client's signature.
    function extendDeal(
        Deal calldata deal,
        DealExtension calldata extension,
        bytes calldata signature
    ) external;

    // ------------------------------------------------------------------ proofs and faults

    /// @notice Prove possession of all the caller's active data for `period` with one answer per challenge.
    /// @param period The caller's next unresolved period, whose proof window is open.
    /// @param proofs One answer per challenge, in challenge order.
    function submitProof(uint32 period, ChallengeProof[] calldata proofs) external;

    /// @notice Declare deals that the caller cannot prove in its next period. Allowed only until that
    ///         period's seed block is mined, so declarations cannot depend on the challenges.
    /// @param dealIds The caller's deals.
    function declareFaults(uint64[] calldata dealIds) external;

    /// @notice Report every closed, unproven period of `provider`. Anyone may call; the reporter earns
    ///         `missedProofBounty` per period from the provider's unlocked stake.
    /// @param provider The provider.
    /// @return bounty Tokens credited to the caller.
    function reportMissedProofs(address provider) external returns (uint256 bounty);

    /// @notice Schedule a fresh seed block for the caller's next period when the current seed block's hash
    ///         is no longer readable (at most once per period).
    function refreshChallengeSeed() external;

    // ------------------------------------------------------------------ governance

    /// @notice Set all parameters at once; each is checked against its hard bounds. Parameter role only.
    /// @param params The parameters.
    function setParameters(Parameters calldata params) external;

    // ------------------------------------------------------------------ views

    /// @notice The provider registry.
    /// @return The registry address.
    function registry() external view returns (address);

    /// @notice The current parameters.
    /// @return The parameters.
    function parameters() external view returns (Parameters memory);

    /// @notice Proving period length in seconds (fixed at deployment).
    /// @return The length.
    function provingPeriod() external view returns (uint256);

    /// @notice Timestamp at which period 0 starts.
    /// @return The timestamp.
    function genesis() external view returns (uint256);

    /// @notice The current proving period.
    /// @return The period.
    function currentPeriod() external view returns (uint256);

    /// @notice Start timestamp of `period`.
    /// @param period The period.
    /// @return The timestamp.
    function periodStart(uint256 period) external view returns (uint256);

    /// @notice A provider's proving state.
    /// @param provider The provider.
    /// @return The state.
    function proofState(address provider) external view returns (ProviderProofState memory);

    /// @notice The id at `index` of a provider's active deal list.
    /// @param provider The provider.
    /// @param index Position (< activeDeals).
    /// @return The deal id.
    function activeDealAt(address provider, uint256 index) external view returns (uint64);

    /// @notice A deal's mutable state; `termsHash == 0` means the deal does not exist (or has ended).
    /// @param id Deal id.
    /// @return termsHash Commitment to the terms.
    /// @return paidSeconds Seconds paid so far.
    /// @return declaredFaults Declared faults so far.
    /// @return lastDeclaredPeriodPlusOne Last declared period + 1 (0 = none).
    /// @return index Position in the provider's active list.
    function dealState(
        uint64 id
    )
        external
        view
        returns (
            uint160 termsHash,
            uint32 paidSeconds,
            uint8 declaredFaults,
            uint32 lastDeclaredPeriodPlusOne,
            uint24 index
        );

    /// @notice Faults charged to a deal so far.
    /// @param deal The terms.
    /// @return missed Missed periods within the deal.
    /// @return declared Declared faults.
    function dealFaults(Deal calldata deal) external view returns (uint256 missed, uint256 declared);

    /// @notice Tokens `settleDeal` would credit now.
    /// @param deal The terms.
    /// @return The amount.
    function settleableAmount(Deal calldata deal) external view returns (uint256);

    /// @notice The seed of `provider`'s next period's challenges (0 if not yet readable).
    /// @param provider The provider.
    /// @return The seed.
    function challengeSeed(address provider) external view returns (bytes32);

    /// @notice The challenges of `provider`'s next period: deal ids and the random words that select leaves
    ///         (`leafIndex = (word >> 128) % ceil(size / 64)`).
    /// @param provider The provider.
    /// @return dealIds Challenged deal ids.
    /// @return words Challenge words.
    function challenges(
        address provider
    ) external view returns (uint64[] memory dealIds, uint256[] memory words);

    /// @notice EIP-712 digest a client signs for `proposal`.
    /// @param proposal The proposal.
    /// @return The digest.
    function proposalDigest(DealProposal calldata proposal) external view returns (bytes32);

    /// @notice Whether `client`'s `nonce` is used or cancelled.
    /// @param client The client.
    /// @param nonce The nonce.
    /// @return True if spent.
    function nonceUsed(address client, uint64 nonce) external view returns (bool);
}
