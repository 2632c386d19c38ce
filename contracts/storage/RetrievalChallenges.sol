// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { Governed } from "../governance/Governed.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { ChallengeId, IRetrievalChallenges } from "../interfaces/IRetrievalChallenges.sol";
import { IStorageMarket } from "../interfaces/IStorageMarket.sol";
import { CreditLedger } from "../payments/CreditLedger.sol";
import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { MerkleSha256 } from "./libraries/MerkleSha256.sol";

/// @title RetrievalChallenges
/// @notice Bonded, per-data-set retrieval challenges against the storage market's live data sets. The challenger's
///         bond goes to the provider when it answers with the leaf and its Merkle path in time; an unanswered
///         challenge ends the data set through the market's `failRetrieval` hook (whole collateral slashed) and
///         returns the bond. Bonds are held and paid out through this contract's own credit ledger.
contract RetrievalChallenges is IRetrievalChallenges, CreditLedger, Governed {
    /// @notice Shortest response window governance may set: a provider needs time to see the challenge and
    ///         land a transaction.
    uint32 public constant MIN_RESPONSE_WINDOW = 60;
    /// @notice Longest response window governance may set: a challenge must resolve within a week.
    uint32 public constant MAX_RESPONSE_WINDOW = 7 days;

    /// @dev A challenge in two storage words: (challenger, dataSetId, status) and (bond, leafIndex, deadline).
    ///      The provider is stored once per data set in `_dataSetRecords`.
    struct StoredChallenge {
        address challenger;
        uint64 dataSetId;
        Status status;
        uint8 depth;
        uint128 bond;
        uint64 leafIndex;
        uint64 deadline;
        bytes32 root;
    }

    /// @dev The parameters and the challenge counter share one word, read together when a challenge opens.
    struct Config {
        uint32 responseWindow;
        uint128 bond;
        uint64 challengeCount;
    }

    /// @dev Per challenged data set, one word: its provider (kept for `challengeOf`) and its open challenge.
    struct DataSetRecord {
        address provider;
        uint64 openChallenge;
    }

    IStorageMarket private immutable _market;
    IProviderRegistry private immutable _registry;
    uint256 private immutable _genesis;
    uint256 private immutable _provingPeriod;
    uint256 private immutable _maxBond;

    Config private _config;
    mapping(ChallengeId challengeId => StoredChallenge) private _challenges;
    mapping(uint64 dataSetId => DataSetRecord) private _dataSetRecords;

    /// @param market_ The storage market; grant this contract its RETRIEVAL_ROLE.
    /// @param admin Holder of the admin, parameter and pauser roles (the timelock in deployment).
    /// @param maxBond_ Deployment cap on the bond parameter (in token base units, >= 1).
    /// @param params Initial parameters.
    constructor(
        IStorageMarket market_,
        address admin,
        uint256 maxBond_,
        Parameters memory params
    ) CreditLedger(IERC20(market_.paymentToken())) Governed(admin) {
        _checkBound("maxBond", maxBond_, 1, type(uint128).max);
        _market = market_;
        _registry = IProviderRegistry(market_.registry());
        _genesis = market_.genesis();
        _provingPeriod = market_.provingPeriod();
        _maxBond = maxBond_;
        _setParameters(params);
    }

    // ------------------------------------------------------------------ challenges

    /// @inheritdoc IRetrievalChallenges
    function openChallenge(
        uint64 dataSetId,
        uint64 leafIndex
    ) external whenNotPaused nonReentrant returns (ChallengeId challengeId) {
        (
            address provider,
            IStorageMarket.Status status,
            uint32 endPeriod,
            bytes32 root,
            uint64 span
        ) = _market.retrievalTarget(dataSetId);
        if (status != IStorageMarket.Status.Live && status != IStorageMarket.Status.Ending) {
            revert RetrievalUnknownDataSet(dataSetId);
        }
        Config memory config = _config;
        // A challenge must be answerable and enforceable while the data set is live: a deadline at or past its
        // end would let the provider escape by finalizing the data set before the challenge is enforced.
        uint256 deadline = block.timestamp + config.responseWindow;
        if (endPeriod != 0 && deadline >= _genesis + uint256(endPeriod) * _provingPeriod) {
            revert RetrievalDataSetOver(dataSetId, endPeriod);
        }
        if (leafIndex >= span) revert RetrievalBadLeaf(leafIndex, span);
        uint256 open = _dataSetRecords[dataSetId].openChallenge;
        if (open != 0) revert RetrievalAlreadyChallenged(dataSetId, ChallengeId.wrap(open));

        // Ids grow by one per challenge and cannot reach 2^64.
        unchecked {
            challengeId = ChallengeId.wrap(++config.challengeCount);
        }
        uint128 bond = config.bond;
        _config = config;
        _dataSetRecords[dataSetId] = DataSetRecord({
            provider: provider,
            openChallenge: uint64(ChallengeId.unwrap(challengeId))
        });
        _challenges[challengeId] = StoredChallenge({
            challenger: msg.sender,
            dataSetId: dataSetId,
            status: Status.Open,
            depth: uint8(Math.log2(span, Math.Rounding.Ceil)),
            bond: bond,
            leafIndex: leafIndex,
            // deadline = now + a bounded window, far below 2^64.
            deadline: uint64(deadline),
            root: root
        });
        emit RetrievalChallengeOpened(
            challengeId,
            dataSetId,
            provider,
            msg.sender,
            leafIndex,
            uint64(deadline),
            bond
        );

        // Interactions last: take the bond from the challenger's balance here, else pull it exactly.
        if (!_charge(msg.sender, bond)) revert RetrievalUnfunded(msg.sender, bond);
    }

    /// @inheritdoc IRetrievalChallenges
    function answerChallenge(
        ChallengeId challengeId,
        bytes32[2] calldata leaf,
        bytes32[] calldata path
    ) external nonReentrant {
        StoredChallenge storage c = _challenges[challengeId];
        (uint64 dataSetId, uint64 deadline) = _requireOpen(challengeId, c);
        if (block.timestamp > deadline) revert RetrievalWrongTime(challengeId, deadline, block.timestamp);
        if (msg.sender != _dataSetRecords[dataSetId].provider)
            revert RetrievalNotProvider(challengeId, msg.sender);
        uint256 depth = c.depth;
        if (path.length != depth) revert RetrievalBadProofLength(path.length, depth);
        uint64 leafIndex = c.leafIndex;
        if (MerkleSha256.computeRoot(leaf[0], leaf[1], leafIndex, path) != c.root) {
            revert RetrievalInvalidProof(challengeId, leafIndex);
        }
        c.status = Status.Answered;
        delete _dataSetRecords[dataSetId].openChallenge;
        _credit(msg.sender, c.bond);
        emit RetrievalChallengeAnswered(challengeId, dataSetId, msg.sender);
    }

    /// @inheritdoc IRetrievalChallenges
    function enforceChallenge(ChallengeId challengeId) external nonReentrant {
        StoredChallenge storage c = _challenges[challengeId];
        (uint64 dataSetId, uint64 deadline) = _requireOpen(challengeId, c);
        if (block.timestamp <= deadline) revert RetrievalWrongTime(challengeId, deadline, block.timestamp);
        address challenger = c.challenger;
        address provider = _dataSetRecords[dataSetId].provider;
        delete _dataSetRecords[dataSetId].openChallenge;
        _credit(challenger, c.bond);
        c.status = Status.Failed;
        // Interaction last: the market ends the data set and credits the challenger's bounty in its own ledger. It
        // refuses with `MarketWrongStatus` only when the data set was already closed by another path: then nothing
        // is left to enforce and the challenge is void (no status view is read first: it costs more than the call).
        // Any other failure, an out-of-gas one included, reverts the whole enforcement.
        try _market.failRetrieval(dataSetId, challenger) {
            emit RetrievalChallengeFailed(challengeId, dataSetId, provider, msg.sender);
        } catch (bytes memory reason) {
            if (reason.length < 4 || bytes4(reason) != IStorageMarket.MarketWrongStatus.selector) {
                // Bubble the market's revert data up unchanged.
                // solhint-disable-next-line no-inline-assembly
                assembly ("memory-safe") {
                    revert(add(reason, 0x20), mload(reason))
                }
            }
            c.status = Status.Voided;
            emit RetrievalChallengeVoided(challengeId, dataSetId);
        }
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IRetrievalChallenges
    function setParameters(Parameters calldata params) external onlyRole(PARAMETER_ROLE) {
        _setParameters(params);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRetrievalChallenges
    function market() external view returns (address) {
        return address(_market);
    }

    /// @inheritdoc IRetrievalChallenges
    function parameters() external view returns (Parameters memory) {
        return Parameters({ responseWindow: _config.responseWindow, bond: _config.bond });
    }

    /// @inheritdoc IRetrievalChallenges
    function maxBond() external view returns (uint256) {
        return _maxBond;
    }

    /// @inheritdoc IRetrievalChallenges
    function challengeOf(ChallengeId challengeId) external view returns (Challenge memory challenge) {
        StoredChallenge memory c = _challenges[challengeId];
        if (c.status == Status.None) return challenge;
        challenge = Challenge({
            dataSetId: c.dataSetId,
            provider: _dataSetRecords[c.dataSetId].provider,
            challenger: c.challenger,
            leafIndex: c.leafIndex,
            root: c.root,
            depth: c.depth,
            deadline: c.deadline,
            bond: c.bond,
            status: c.status
        });
    }

    /// @inheritdoc IRetrievalChallenges
    function openChallengeOf(uint64 dataSetId) external view returns (ChallengeId) {
        return ChallengeId.wrap(_dataSetRecords[dataSetId].openChallenge);
    }

    /// @inheritdoc IRetrievalChallenges
    function challengeCount() external view returns (uint256) {
        return _config.challengeCount;
    }

    // ------------------------------------------------------------------ internal

    /// @dev The challenge's data set and deadline, or a revert unless it is open.
    function _requireOpen(
        ChallengeId challengeId,
        StoredChallenge storage c
    ) private view returns (uint64 dataSetId, uint64 deadline) {
        Status status = c.status;
        if (status != Status.Open) revert RetrievalNotOpen(challengeId, status);
        return (c.dataSetId, c.deadline);
    }

    function _setParameters(Parameters memory params) private {
        _checkBound("responseWindow", params.responseWindow, MIN_RESPONSE_WINDOW, MAX_RESPONSE_WINDOW);
        _checkBound("bond", params.bond, 1, _maxBond);
        _config.responseWindow = params.responseWindow;
        _config.bond = params.bond;
        emit ParametersSet(params);
    }

    function _checkBound(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert RetrievalParameterOutOfBounds(name, value, min, max);
    }

    // ------------------------------------------------------------------ ledger

    /// @dev Every token this contract owes is in its own balance: nothing is held elsewhere.
    function _collectPending() internal pure override {} // solhint-disable-line no-empty-blocks

    /// @dev A provider's bond winnings go to its registry payee; anyone else is paid directly.
    function _payoutAddress(address account) internal view override returns (address) {
        return _registry.payeeOf(account);
    }
}
