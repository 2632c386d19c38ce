// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ICreditLedger } from "./ICreditLedger.sol";
import { IMarketGovernance } from "./IMarketGovernance.sol";

/// @title IStorageMarket
/// @notice Data sets between clients and providers: client-signed creation and states (EIP-712, or a scoped
///         session key), one payment stream per data set from a per-data-set escrow, exact prices per TiB-month,
///         one proof of storage per provider per proving period over all its data sets, challenges drawn by
///         bytes from what was fixed before the seed, declared and missed faults, slashing, termination with
///         notice. See docs/SPEC.md for the rules. A pause (`IGoverned.pause`) stops creation, updates and
///         top-ups; settlement, proofs, termination, finalization and withdrawals continue.
interface IStorageMarket is ICreditLedger, IMarketGovernance {
    // ------------------------------------------------------------------ types

    /// @notice What a client signs to open a data set (EIP-712 type `CreateDataSet`).
    /// @param client Who pays; the signer.
    /// @param provider Who stores and proves; the only address that may submit the creation.
    /// @param pricePerTiBMonth Token base units per TiB (2^40 bytes) per 30 days (2,592,000 s); exact.
    /// @param collateralPerTiB Provider collateral per TiB of class capacity.
    /// @param noticePeriods Proving periods between a termination and the data set's end.
    /// @param nonce Client nonce (bitmap; each nonce used once, cancellable).
    /// @param deadline Latest timestamp at which the creation may be submitted.
    struct CreateDataSet {
        address client;
        address provider;
        uint128 pricePerTiBMonth;
        uint128 collateralPerTiB;
        uint32 noticePeriods;
        uint64 nonce;
        uint64 deadline;
    }

    /// @notice The content of a data set, signed by its client or a session key (EIP-712 type `DataSetState`).
    /// @param dataSetId The data set.
    /// @param version Strictly increasing per data set; the newest signed state supersedes older ones.
    /// @param root SHA-256 Merkle root over 2^ceil(log2(span)) 64-byte leaves (0 when empty).
    /// @param span End of the last used leaf range, in 64-byte leaves (0 = empty).
    // The EIP-712 type fixes the field order.
    // solhint-disable-next-line gas-struct-packing
    struct DataSetState {
        uint64 dataSetId;
        uint64 version;
        bytes32 root;
        uint64 span;
    }

    /// @notice A state with its signature.
    /// @param state The state.
    /// @param signer The client, or a session key the client authorised.
    /// @param signature 65-byte ECDSA or ERC-1271 signature over the state's EIP-712 digest.
    struct SignedState {
        DataSetState state;
        address signer;
        bytes signature;
    }

    /// @notice A session key's scope.
    /// @param provider Only data sets with this provider (0 = any of the client's data sets).
    /// @param maxSpan Largest span (leaves) a state signed by the key may set.
    /// @param expiry Timestamp after which the key signs nothing.
    struct SessionKey {
        address provider;
        uint64 maxSpan;
        uint64 expiry;
    }

    /// @notice Answer to one accepted challenge: the 64-byte leaf and exactly `class` sibling hashes, bottom up.
    ///         An answer for a data set declared faulty for the period is empty (zero leaf, empty path).
    /// @param leaf The challenged leaf.
    /// @param path Sibling hashes from the bottom level up.
    struct ChallengeAnswer {
        bytes32[2] leaf;
        bytes32[] path;
    }

    /// @notice One drawn challenge (view `challengesFor`).
    /// @param dataSetId Challenged data set.
    /// @param leaf Challenged leaf index within the data set.
    /// @param depth Merkle path length expected (the data set's frozen size class).
    /// @param declared Whether the data set is declared faulty for the period (answer left empty).
    struct Challenge {
        uint64 dataSetId;
        uint64 leaf;
        uint8 depth;
        bool declared;
    }

    /// @notice A data set's record (view `dataSet`).
    /// @param client Client.
    /// @param provider Provider.
    /// @param pricePerTiBMonth Price.
    /// @param collateralPerTiB Collateral rate.
    /// @param noticePeriods Notice.
    /// @param endPeriod First period not paid (0 while live).
    /// @param status Lifecycle status.
    /// @param version Newest applied state version.
    /// @param root Current root (effective from `writtenAt + 1`).
    /// @param span Current span.
    /// @param frozenSpan Span frozen for the provider's next proving period.
    /// @param escrow Client tokens held for the data set.
    /// @param paid Tokens paid to the provider so far.
    /// @param leafSeconds Σ span × proven unfaulted seconds accounted so far.
    /// @param paidThrough First period not yet accounted.
    /// @param missedFaults Missed periods charged to the data set.
    /// @param declaredFaults Declared faults charged to the data set.
    // A view's return value: the order reads best for people, and it is never stored.
    // solhint-disable-next-line gas-struct-packing
    struct DataSetView {
        address client;
        address provider;
        uint128 pricePerTiBMonth;
        uint128 collateralPerTiB;
        uint32 noticePeriods;
        uint32 endPeriod;
        Status status;
        uint64 version;
        bytes32 root;
        uint64 span;
        uint64 frozenSpan;
        uint256 escrow;
        uint256 paid;
        uint256 leafSeconds;
        uint32 paidThrough;
        uint32 missedFaults;
        uint32 declaredFaults;
    }

    /// @notice A provider's proving state.
    /// @param nextPeriod First proving period not yet resolved (proven or reported missed): the epoch N.
    /// @param seedBlock Block whose hash seeds the challenges of `nextPeriod`.
    /// @param missedPeriods Total periods recorded missed.
    /// @param seedRefreshedPeriod Period + 1 in which the seed was last refreshed (0 = never).
    /// @param restartEpoch Epoch in which the provider restarted from nothing: states written before its seed
    ///        block apply to that very period (there was nothing frozen to steer).
    struct ProviderProofState {
        uint32 nextPeriod;
        uint64 seedBlock;
        uint32 missedPeriods;
        uint32 seedRefreshedPeriod;
        uint32 restartEpoch;
    }

    /// @notice Governance parameters; every field has hard bounds in `StorageParams`.
    /// @param proofWindow Seconds at the end of each period during which its proof is accepted.
    /// @param challengeCount Challenges per proof.
    /// @param challengeFinality Blocks between fixing a seed block and its hash being usable.
    /// @param maxFaults Faults (missed + declared) after which a data set may be terminated for faults.
    /// @param missedFaultPenaltyBps Collateral forfeited to the client per missed period, in bps.
    /// @param declaredFaultPenaltyBps Collateral forfeited to the client per declared fault, in bps.
    /// @param providerTerminationFeeBps Collateral paid to the client when the provider terminates.
    /// @param faultTerminationBountyBps Share of a fault-terminated data set's collateral paid to the caller.
    /// @param treasuryShareBps Share of every slash sent to the treasury.
    /// @param maxNoticePeriods Longest notice, in periods.
    /// @param maxDataSetSize Largest data set (span × 64), in bytes.
    /// @param missedProofPenalty Tokens slashed from the provider's proof bond per missed period (the bond is
    ///        `(maxFaults + 2) × missedProofPenalty`, held by the market while the provider has a data set not finalized).
    /// @param reporterShareBps Share of a reported missed-proof penalty credited to the reporter, in bps (<= 5,000);
    ///        the rest goes to the treasury.
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
        uint32 maxNoticePeriods;
        uint64 maxDataSetSize;
        uint128 missedProofPenalty;
        uint16 reporterShareBps;
    }

    /// @notice Lifecycle of a data set.
    enum Status {
        None,
        Live,
        Ending,
        Finalized
    }

    /// @notice How a data set ended (mirrored by offchain/sdk/chain/enums.ts).
    enum EndReason {
        Expired,
        ClientTerminated,
        ProviderTerminated,
        Faulty,
        RetrievalFailed,
        Unfunded
    }

    /// @notice Why an entry of `updateDataSets` was skipped (the rest of the batch still applies).
    enum SkipReason {
        StaleVersion,
        Unfunded,
        NotLive
    }

    // ------------------------------------------------------------------ events

    /// @notice A data set was created (empty: span 0).
    /// @param id The data set.
    /// @param client The client.
    /// @param provider The provider.
    /// @param pricePerTiBMonth Price per TiB per 30 days.
    /// @param collateralPerTiB Collateral per TiB of class capacity.
    /// @param noticePeriods Notice in periods.
    /// @param nonce The client's creation nonce.
    event DataSetCreated(
        uint64 indexed id,
        address indexed client,
        address indexed provider,
        uint128 pricePerTiBMonth,
        uint128 collateralPerTiB,
        uint32 noticePeriods,
        uint64 nonce
    );
    /// @notice A signed state was applied; it is challenged and paid from `effectivePeriod`. The slot arrays of
    ///         size classes follow deterministically: a class change removes the data set from its old class
    ///         (the last slot moves into the hole) and appends it to the new one.
    /// @param id The data set.
    /// @param version The state's version.
    /// @param root The new root.
    /// @param span The new span (leaves).
    /// @param effectivePeriod First period in which the new state is challenged and paid.
    event DataSetUpdated(
        uint64 indexed id,
        uint64 version,
        bytes32 root,
        uint64 span,
        uint32 effectivePeriod
    );
    /// @notice An entry of `updateDataSets` was skipped.
    /// @param id The data set.
    /// @param version The skipped state's version.
    /// @param reason Why it was skipped.
    event DataSetUpdateSkipped(uint64 indexed id, uint64 version, SkipReason reason);
    /// @notice Tokens were added to a data set's escrow.
    /// @param id The data set.
    /// @param from Who paid.
    /// @param amount Tokens added.
    event DataSetToppedUp(uint64 indexed id, address indexed from, uint256 amount);
    /// @notice The client withdrew escrow above the lockup (credited to its ledger balance).
    /// @param id The data set.
    /// @param amount Tokens withdrawn.
    event EscrowWithdrawn(uint64 indexed id, uint256 amount);
    /// @notice A data set's stream was settled.
    /// @param id The data set.
    /// @param amount Tokens credited to the provider.
    /// @param leafSeconds The data set's cumulative leaf-seconds after accounting.
    event DataSetSettled(uint64 indexed id, uint256 amount, uint256 leafSeconds);
    /// @notice A data set was set to end at `endPeriod` (first period not paid).
    /// @param id The data set.
    /// @param by Who terminated it.
    /// @param reason Why it ends.
    /// @param endPeriod First period not paid.
    event DataSetTerminated(uint64 indexed id, address indexed by, EndReason reason, uint32 endPeriod);
    /// @notice A data set was finalized: final payment, refund, penalty and collateral release.
    /// @param id The data set.
    /// @param reason Why it ended.
    /// @param paidToProvider Final payment credited to the provider.
    /// @param refundedToClient Escrow returned to the client.
    /// @param compensationToClient Slashed collateral credited to the client.
    /// @param collateralReleased Collateral unlocked back to the provider's free stake.
    event DataSetEnded(
        uint64 indexed id,
        EndReason reason,
        uint256 paidToProvider,
        uint256 refundedToClient,
        uint256 compensationToClient,
        uint256 collateralReleased
    );
    /// @notice Slashed collateral was split.
    /// @param provider The provider.
    /// @param dataSetId The data set.
    /// @param toHarmed Share credited to the harmed client.
    /// @param toReporter Share credited to the reporter.
    /// @param toTreasury Share credited to the treasury.
    event Slashed(
        address indexed provider,
        uint64 indexed dataSetId,
        uint256 toHarmed,
        uint256 toReporter,
        uint256 toTreasury
    );
    /// @notice A client authorised a session key.
    /// @param client The client.
    /// @param key The session key.
    /// @param provider Only data sets with this provider (0 = any of the client's).
    /// @param maxSpan Largest span (leaves) the key may sign.
    /// @param expiry Timestamp after which the key signs nothing.
    event SessionKeyAuthorized(
        address indexed client,
        address indexed key,
        address provider,
        uint64 maxSpan,
        uint64 expiry
    );
    /// @notice A client revoked a session key.
    /// @param client The client.
    /// @param key The session key.
    event SessionKeyRevoked(address indexed client, address indexed key);
    /// @notice A provider proved a period.
    /// @param provider The provider.
    /// @param period The period proven.
    /// @param nextSeedBlock Block whose hash seeds the provider's next period.
    event ProofSubmitted(address indexed provider, uint32 indexed period, uint64 nextSeedBlock);
    /// @notice A provider declared a data set faulty for a period before its challenges were known.
    /// @param provider The provider.
    /// @param period The period declared.
    /// @param dataSetId The data set.
    event FaultDeclared(address indexed provider, uint32 indexed period, uint64 indexed dataSetId);
    /// @notice Missed proving periods were recorded (`reporter` = 0 when recorded by a change, without bounty).
    ///         The penalty is slashed from the proof bond (`ProofBondSlashed`).
    /// @param provider The provider.
    /// @param fromPeriod First missed period.
    /// @param count Number of consecutive periods.
    /// @param reporter Who reported (0 when recorded by a change, without bounty).
    /// @param bounty Tokens credited to the reporter (`reporterShareBps` of the penalty slashed for these periods).
    /// @param nextSeedBlock Block whose hash seeds the provider's next period.
    event MissedProofsReported(
        address indexed provider,
        uint32 fromPeriod,
        uint32 count,
        address indexed reporter,
        uint256 bounty,
        uint64 nextSeedBlock
    );
    /// @notice A provider's challenge seed block was set anew.
    /// @param provider The provider.
    /// @param period The period the seed is for.
    /// @param seedBlock The new seed block.
    event ChallengeSeedScheduled(address indexed provider, uint32 indexed period, uint64 seedBlock);
    /// @notice Free stake of the provider was taken into its proof bond, which the market holds (the bond was
    ///         refilled to full; the registry emits `StakeBonded`).
    /// @param provider The provider.
    /// @param amount Stake taken now.
    /// @param bond The bond after the refill: `(maxFaults + 2) × missedProofPenalty`.
    event ProofBondLocked(address indexed provider, uint256 amount, uint256 bond);
    /// @notice Missed periods were charged to the provider's proof bond.
    /// @param provider The provider.
    /// @param periods Missed periods charged (reported by `reporter` or recorded by a change).
    /// @param slashed Tokens slashed from the bond: `min(periods × missedProofPenalty, bond left)`.
    /// @param reporter The reporter (0 when every period was recorded by a change).
    /// @param toReporter Share credited to the reporter (of the reported periods' penalty only).
    /// @param toTreasury The rest, credited to the treasury.
    event ProofBondSlashed(
        address indexed provider,
        uint256 periods,
        uint256 slashed,
        address indexed reporter,
        uint256 toReporter,
        uint256 toTreasury
    );
    /// @notice The provider's last open data set closed: what was left of its proof bond returned to its free stake
    ///         (the registry emits `StakeReturned`).
    /// @param provider The provider.
    /// @param amount Stake returned.
    event ProofBondReleased(address indexed provider, uint256 amount);
    /// @notice A client cancelled a nonce.
    /// @param client The client.
    /// @param nonce The nonce.
    event NonceCancelled(address indexed client, uint64 nonce);
    /// @notice Parameters changed.
    /// @param params The parameters.
    event ParametersSet(Parameters params);

    // ------------------------------------------------------------------ errors

    /// @notice Only the terms' provider may submit the creation.
    error MarketNotTermsProvider(address provider, address caller);
    /// @notice The signed message's deadline has passed.
    error MarketExpired(uint64 deadline, uint256 nowTs);
    /// @notice The signature does not belong to the expected signer.
    error MarketBadSignature(address signer);
    /// @notice The price is zero.
    error MarketZeroPrice();
    /// @notice The price is not below 2^96 (the width the market stores it in).
    error MarketPriceTooHigh(uint256 pricePerTiBMonth, uint256 max);
    /// @notice The notice is above the limit.
    error MarketBadNotice(uint32 noticePeriods, uint32 maxNoticePeriods);
    /// @notice The span is above the limit.
    error MarketBadSpan(uint64 span, uint256 maxSpan);
    /// @notice The batch is empty or larger than the limit.
    error MarketBadBatchSize(uint256 length, uint256 maxLength);
    /// @notice The caller is not a registered provider.
    error MarketNotRegistered(address provider);
    /// @notice The data set does not exist.
    error MarketUnknownDataSet(uint64 id);
    /// @notice The caller may not do this to the data set.
    error MarketNotDataSetParty(uint64 id, address caller);
    /// @notice The data set is not in the status this needs.
    error MarketWrongStatus(uint64 id, Status status);
    /// @notice The data set's end is not yet resolved.
    error MarketNotOver(uint64 id, uint32 endPeriod, uint32 resolvedUntil);
    /// @notice The data set has fewer faults than the termination threshold.
    error MarketNotEnoughFaults(uint64 id, uint256 faults, uint8 maxFaults);
    /// @notice The data set's escrow still covers its lockup.
    error MarketStillFunded(uint64 id, uint256 available, uint256 needed);
    /// @notice Escrow available above the lockup is less than asked.
    error MarketAboveAvailable(uint64 id, uint256 amount, uint256 available);
    /// @notice The signer is not an authorised, unexpired session key of the client for this data set and span.
    error MarketSessionKeyNotValid(address client, address key, uint64 dataSetId);
    /// @notice The proof is for a period other than the provider's next unresolved one.
    error MarketWrongPeriod(uint32 period, uint32 expected);
    /// @notice The proof arrived outside the period's proof window.
    error MarketOutsideProofWindow(uint256 opensAt, uint256 closesAt, uint256 nowTs);
    /// @notice The challenge seed is not yet available (its block is not yet mined).
    error MarketSeedNotReady(uint64 seedBlock, uint256 currentBlock);
    /// @notice The seed block's hash is no longer readable; schedule a new seed with `refreshChallengeSeed`.
    error MarketSeedExpired(uint64 seedBlock);
    /// @notice The seed is still readable, or was already refreshed this period.
    error MarketSeedRefreshNotAllowed(uint64 seedBlock);
    /// @notice The number of answers differs from the number of accepted challenges.
    error MarketWrongChallengeCount(uint256 given, uint256 expected);
    /// @notice The Merkle path has the wrong length for the data set's class.
    error MarketBadProofLength(uint256 challenge, uint256 given, uint256 expected);
    /// @notice The Merkle path does not lead to the data set's frozen root.
    error MarketInvalidProof(uint256 challenge, uint64 dataSetId, uint256 leaf);
    /// @notice Faults for the next period can no longer be declared: its seed block has been mined.
    error MarketDeclarationClosed(uint64 seedBlock, uint256 currentBlock);
    /// @notice The provider has closed proving periods that are neither proven nor reported.
    error MarketUnresolvedPeriods(address provider, uint32 nextPeriod, uint256 currentPeriod);
    /// @notice The data set was already declared faulty for this period, or holds nothing frozen for it.
    error MarketCannotDeclare(uint64 dataSetId, uint32 period);
    /// @notice No closed proving period of the provider is unresolved.
    error MarketNoMissedPeriods(address provider, uint32 nextPeriod, uint256 currentPeriod);
    /// @notice The nonce was already used or cancelled.
    error MarketNonceUsed(address client, uint64 nonce);
    /// @notice A payer could not fund an amount.
    error MarketUnfunded(address payer, uint256 amount);
    /// @notice A parameter is outside its hard bounds.
    error MarketParameterOutOfBounds(string name, uint256 value, uint256 min, uint256 max);
    /// @notice The data set has an open retrieval challenge: it cannot close (finalize or fault termination) until
    ///         the challenge is answered or enforced.
    error MarketRetrievalChallengeOpen(uint64 id, uint256 challengeId);
    /// @notice The market's token is not the registry's token.
    error MarketTokenMismatch(address marketToken, address registryToken);

    // ------------------------------------------------------------------ data sets

    /// @notice Open an empty data set on the client's signed terms. Provider only (it consents to the terms).
    ///         Refills the provider's proof bond to `(maxFaults + 2) × missedProofPenalty` from its free stake
    ///         (after charging missed periods recorded by changes); reverts with the registry's
    ///         `RegistryInsufficientFreeStake(provider, free, needed)` when free stake is short. Blocked while paused.
    /// @param terms The signed terms.
    /// @param signature The client's signature.
    /// @return id The new data set's id (sequential from 1).
    function createDataSet(
        CreateDataSet calldata terms,
        bytes calldata signature
    ) external returns (uint64 id);

    /// @notice Apply the newest signed states of the caller's data sets. An entry whose version is not above the
    ///         stored one, whose data set is not live, or whose escrow would not cover the lockup of the new span
    ///         is skipped with `DataSetUpdateSkipped`; a bad signature reverts the batch. A change applies from
    ///         the provider's next period after its current one (the epoch rule). A batch that raises the provider's
    ///         locked collateral also refills its proof bond to full. Blocked while paused.
    /// @param states Signed states (1..MAX_BATCH).
    /// @return applied Number of states applied.
    function updateDataSets(SignedState[] calldata states) external returns (uint256 applied);

    /// @notice Authorise `key` to sign states of the caller's data sets within `scope` (replaces a previous scope).
    /// @param key The session key.
    /// @param scope The key's scope.
    function authorizeSessionKey(address key, SessionKey calldata scope) external;

    /// @notice Revoke a session key at once.
    /// @param key The session key.
    function revokeSessionKey(address key) external;

    /// @notice Add `amount` to a data set's escrow from the caller's ledger balance, else its allowance (exact
    ///         pull). Blocked while paused.
    /// @param id The data set.
    /// @param amount Tokens to add.
    function topUp(uint64 id, uint256 amount) external;

    /// @notice Client only: move escrow above the lockup (what is owed plus the notice cover) to its balance.
    /// @param id The data set.
    /// @param amount Tokens to withdraw.
    function withdrawEscrow(uint64 id, uint256 amount) external;

    /// @notice Submit a client's EIP-2612 permit for this market (pair with `topUp` in a `multicall`). A failing
    ///         permit is ignored.
    /// @param client The client (the permit's owner).
    /// @param value Allowance the permit grants.
    /// @param deadline Permit deadline.
    /// @param v Permit signature (v).
    /// @param r Permit signature (r).
    /// @param s Permit signature (s).
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

    /// @notice Credit the provider with everything the data set has earned over resolved periods. Anyone may call.
    /// @return amount Tokens credited.
    /// @param id The data set.
    function settleDataSet(uint64 id) external returns (uint256 amount);

    /// @notice `settleDataSet` for many data sets in one call (anyone). Unknown ids revert.
    /// @return total Tokens credited in all.
    /// @param ids The data sets (consecutive ids of one provider are credited once).
    function settleDataSets(uint64[] calldata ids) external returns (uint256 total);

    /// @notice Client or provider ends a live data set after its notice: `endPeriod = N + 1 + noticePeriods`.
    ///         A provider who terminates pays the termination fee from its collateral to the client.
    /// @param id The data set.
    function terminateDataSet(uint64 id) external;

    /// @notice Anyone ends a live data set whose escrow no longer covers the lockup of its span (no penalty).
    /// @param id The data set.
    function terminateUnfunded(uint64 id) external;

    /// @notice Anyone ends a data set with at least `maxFaults` faults: whole collateral slashed to the client,
    ///         the caller's bounty and the treasury share. Refused while a retrieval challenge of the data set is
    ///         open (`MarketRetrievalChallengeOpen`): its enforcement pays the challenger instead.
    /// @param id The data set.
    function terminateFaultyDataSet(uint64 id) external;

    /// @notice End a data set whose provider failed a retrieval challenge (`RETRIEVAL_ROLE` only): like
    ///         `terminateFaultyDataSet`, with the bounty to `challenger`.
    /// @param id The data set.
    /// @param challenger Who opened the unanswered challenge (receives the bounty).
    function failRetrieval(uint64 id, address challenger) external;

    /// @notice Anyone: remove an ending data set from its provider's challengeable bytes once the provider's
    ///         next period is its last (the removal applies from the next epoch); and, once its end is resolved,
    ///         pay the provider, refund the client, charge fault penalties and release the collateral. The close is
    ///         refused while a retrieval challenge of the data set is open (`MarketRetrievalChallengeOpen`), so a
    ///         provider that cannot answer cannot escape it by letting the data set end. The provider's last
    ///         closing data set releases its proof bond.
    /// @param id The data set.
    function finalizeDataSet(uint64 id) external;

    // ------------------------------------------------------------------ proofs and faults

    /// @notice Prove the caller's frozen bytes for `period`: one answer per accepted challenge, in draw order.
    /// @param period The caller's next unresolved period.
    /// @param answers One answer per accepted challenge, in draw order.
    function submitProof(uint32 period, ChallengeAnswer[] calldata answers) external;

    /// @notice Declare data sets the caller cannot prove in its next period, until that period's seed block.
    /// @param ids The caller's data sets to declare.
    function declareFaults(uint64[] calldata ids) external;

    /// @notice Record every closed, unproven period of `provider` and slash `min(n × missedProofPenalty, bond
    ///         left)` from its proof bond for the `n` new ones (plus, without reporter share, any recorded earlier by
    ///         a change); the caller earns `reporterShareBps` of the reported part, the treasury the rest, both
    ///         credited in this market's ledger from the bond it holds (no registry call). A provider reporting
    ///         itself loses the penalty less the share.
    /// @return bounty Tokens credited to the caller.
    /// @param provider The provider.
    function reportMissedProofs(address provider) external returns (uint256 bounty);

    /// @notice Schedule a fresh seed block when the current one's hash is gone (at most once per period).
    function refreshChallengeSeed() external;

    // ------------------------------------------------------------------ governance

    /// @notice Set all parameters at once; each is checked against its hard bounds. Parameter role only.
    /// @param params The parameters.
    function setParameters(Parameters calldata params) external;

    // ------------------------------------------------------------------ views

    /// @notice The provider registry.
    function registry() external view returns (address);
    /// @notice The current parameters.
    function parameters() external view returns (Parameters memory);
    /// @notice Proving period length in seconds (fixed at deployment).
    function provingPeriod() external view returns (uint256);
    /// @notice Timestamp at which period 0 starts.
    function genesis() external view returns (uint256);
    /// @notice The current proving period.
    function currentPeriod() external view returns (uint256);
    /// @notice Start timestamp of `period`.
    /// @param period The period.
    function periodStart(uint256 period) external view returns (uint256);
    /// @notice A provider's proving state.
    /// @param provider The provider.
    function proofState(address provider) external view returns (ProviderProofState memory);
    /// @notice A data set's record.
    /// @param id The data set.
    function dataSet(uint64 id) external view returns (DataSetView memory);
    /// @notice What a retrieval challenge needs of a data set, in three storage reads (`dataSet` reads all of it).
    /// @param id The data set.
    /// @return provider Its provider.
    /// @return status Its status.
    /// @return endPeriod First period not paid (0 while live).
    /// @return root Its current root.
    /// @return span Its current span (leaves).
    function retrievalTarget(
        uint64 id
    ) external view returns (address provider, Status status, uint32 endPeriod, bytes32 root, uint64 span);
    /// @notice A provider's proof bond (held by the market, outside the provider's registry stake) and its data sets
    ///         not yet finalized.
    /// @param provider The provider.
    /// @return amount Tokens of the bond left.
    /// @return openDataSets Data sets of the provider not yet finalized.
    function proofBond(address provider) external view returns (uint256 amount, uint256 openDataSets);
    /// @notice Number of data sets created so far (ids are 1..count).
    function dataSetCount() external view returns (uint64);
    /// @notice Frozen (for the provider's next period) and current weight in leaves, Σ count_k × capacity_k over its
    ///         draw classes k (docs/SPEC.md §4.3).
    /// @param provider The provider.
    /// @return frozen Weight frozen for its next period.
    /// @return current Weight after its pending changes.
    function weight(address provider) external view returns (uint256 frozen, uint256 current);
    /// @notice Frozen count of draw class `c` and the data set in its `slot` for the provider's next period.
    /// @param provider The provider.
    /// @param c The draw class (`size class << 3 | eighth`, docs/SPEC.md §4.3).
    /// @param slot The slot.
    /// @return count Frozen number of data sets in the draw class.
    /// @return id The data set frozen in the slot.
    function classSlot(
        address provider,
        uint16 c,
        uint256 slot
    ) external view returns (uint256 count, uint64 id);
    /// @notice Tokens `settleDataSet` would credit now.
    /// @param id The data set.
    function settleableAmount(uint64 id) external view returns (uint256);
    /// @notice Escrow the client may withdraw now.
    /// @param id The data set.
    function withdrawableEscrow(uint64 id) external view returns (uint256);
    /// @notice Escrow a data set of `span` leaves must hold beyond what is owed (notice + 2 periods).
    /// @param id The data set.
    /// @param span The span (leaves).
    function lockupFor(uint64 id, uint64 span) external view returns (uint256);
    /// @notice The seed of `provider`'s next period (0 if not yet readable).
    /// @param provider The provider.
    function challengeSeed(address provider) external view returns (bytes32);
    /// @notice The draw for `provider`'s next period (empty until the seed is readable).
    /// @param provider The provider.
    function challengesFor(address provider) external view returns (Challenge[] memory);
    /// @notice EIP-712 digest of creation terms.
    /// @param terms The client's signed creation terms.
    function createDigest(CreateDataSet calldata terms) external view returns (bytes32);
    /// @notice EIP-712 digest of a state.
    /// @param state The state.
    function stateDigest(DataSetState calldata state) external view returns (bytes32);
    /// @notice Whether `client`'s `nonce` is used or cancelled.
    /// @param client The client.
    /// @param nonce The client's creation nonce.
    function nonceUsed(address client, uint64 nonce) external view returns (bool);
    /// @notice A client's session key scope (expiry 0 = none).
    /// @param client The client.
    /// @param key The session key.
    function sessionKey(address client, address key) external view returns (SessionKey memory);
}
