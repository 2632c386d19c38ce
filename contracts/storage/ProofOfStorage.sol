// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../interfaces/IStorageMarket.sol";
import { ProvingLib } from "./libraries/ProvingLib.sol";
import { StorageMarketBase } from "./StorageMarketBase.sol";

/// @title ProofOfStorage
/// @notice One proof per provider per proving period over all its active deals; challenge seeds fixed a
///         finality delay ahead; declared faults before the seed is known; missed periods reported by anyone.
abstract contract ProofOfStorage is StorageMarketBase {
    /// @notice EIP-2935 block-hash history contract (Prague); used when BLOCKHASH no longer reaches the seed block.
    address internal constant BLOCK_HASH_HISTORY = 0x0000F90827F1C53a10cb7A02335B175320002935;

    /// @inheritdoc IStorageMarket
    function submitProof(uint32 period, ChallengeProof[] calldata proofs) external {
        ProviderProofState storage state = _proofStates[msg.sender];
        if (state.activeDeals == 0) revert MarketNothingToProve(msg.sender);
        Parameters storage p = _params;
        ProvingLib.ProofContext memory ctx = ProvingLib.ProofContext({
            periodEnd: _periodStart(uint256(period) + 1),
            proofWindow: p.proofWindow,
            challengeCount: p.challengeCount,
            challengeFinality: p.challengeFinality,
            seed: _requireSeed(state.seedBlock)
        });
        ProvingLib.submitProof(state, _activeLists[msg.sender], _deals, ctx, period, proofs);
    }

    /// @inheritdoc IStorageMarket
    function declareFaults(uint64[] calldata dealIds) external {
        ProvingLib.declareFaults(
            _proofStates[msg.sender],
            _activeLists[msg.sender],
            _deals,
            _currentPeriod(),
            dealIds
        );
    }

    /// @inheritdoc IStorageMarket
    function reportMissedProofs(address provider) external nonReentrant returns (uint256 bounty) {
        Parameters storage p = _params;
        (uint32 from, uint32 count, uint64 seedBlock) = ProvingLib.recordMissed(
            _proofStates[provider],
            _faultLogs[provider],
            provider,
            _currentPeriod(),
            p.challengeFinality
        );
        if (msg.sender != provider) {
            uint256 maxBounty = uint256(count) * p.missedProofBounty;
            if (maxBounty != 0) {
                bounty = _registry.slash(provider, 0, maxBounty);
                if (bounty != 0) _credit(msg.sender, bounty);
            }
        }
        emit MissedProofsReported(provider, from, count, msg.sender, bounty, seedBlock);
    }

    /// @inheritdoc IStorageMarket
    function refreshChallengeSeed() external {
        ProviderProofState storage state = _proofStates[msg.sender];
        (bytes32 seed, bool mined) = _readSeed(state.seedBlock);
        ProvingLib.refreshSeed(
            state,
            _currentPeriod(),
            _params.challengeFinality,
            !mined || seed != bytes32(0)
        );
    }

    /// @inheritdoc IStorageMarket
    function challengeSeed(address provider) external view returns (bytes32 seed) {
        (seed, ) = _readSeed(_proofStates[provider].seedBlock);
    }

    /// @inheritdoc IStorageMarket
    function challenges(
        address provider
    ) external view returns (uint64[] memory dealIds, uint256[] memory words) {
        ProviderProofState memory st = _proofStates[provider];
        (bytes32 seed, ) = _readSeed(st.seedBlock);
        if (seed == bytes32(0) || st.activeDeals == 0) return (dealIds, words);
        return
            ProvingLib.challenges(
                _activeLists[provider],
                seed,
                provider,
                st.nextPeriod,
                st.challengeable,
                st.activeDeals,
                _params.challengeCount
            );
    }

    // ------------------------------------------------------------------ internal

    /// @dev The seed for challenges, or a revert saying why it cannot be used yet (or any more).
    function _requireSeed(uint64 seedBlock) internal view returns (bytes32 seed) {
        bool ready;
        (seed, ready) = _readSeed(seedBlock);
        if (!ready) revert MarketSeedNotReady(seedBlock, block.number);
        if (seed == bytes32(0)) revert MarketSeedExpired(seedBlock);
    }

    /// @dev `ready` is false while the seed block is not yet mined; `seed` is zero when its hash is gone.
    function _readSeed(uint64 seedBlock) internal view returns (bytes32 seed, bool ready) {
        if (block.number <= seedBlock) return (bytes32(0), false);
        ready = true;
        seed = blockhash(seedBlock);
        if (seed == bytes32(0) && BLOCK_HASH_HISTORY.code.length != 0) {
            (bool ok, bytes memory ret) = BLOCK_HASH_HISTORY.staticcall(abi.encode(uint256(seedBlock)));
            if (ok && ret.length == 32) seed = abi.decode(ret, (bytes32));
        }
    }
}
