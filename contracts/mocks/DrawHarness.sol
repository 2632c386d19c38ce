// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../interfaces/IStorageMarket.sol";
import { DataSetProving } from "../storage/libraries/DataSetProving.sol";
import { MarketLayout } from "../storage/libraries/MarketLayout.sol";
import { ProviderEpochs } from "../storage/libraries/ProviderEpochs.sol";

/// @title DrawHarness
/// @notice Test and benchmark harness for the challenge draw: one provider's draw classes filled with the market's own
///         code (`ProviderEpochs.write`, no signatures, no money), and the draw of any seed with its gas. The draw is
///         the only part of a proof whose cost depends on the seed, so its gas over many seeds bounds the proof's.
contract DrawHarness {
    /// @notice The provider whose data sets the harness holds.
    address public constant PROVIDER = address(0x5EED);
    /// @notice The epoch drawn for (data sets are written in epoch 0, so they are frozen for it).
    uint256 public constant EPOCH = 1;

    MarketLayout.Layout private _s;
    uint64 private _count;

    /// @notice Add data sets of `spans` leaves (ids from 1, each root its id), frozen for `EPOCH`.
    /// @param spans The spans (> 0).
    function addDataSets(uint64[] calldata spans) external {
        for (uint256 i = 0; i < spans.length; ++i) {
            uint64 id = ++_count;
            _s.sets[id].provider = PROVIDER;
            ProviderEpochs.write(_s, id, bytes32(uint256(id)), spans[i], 0);
        }
    }

    /// @notice The draw of `seed` for `EPOCH` with `count` challenges, and the gas it used (storage cold, as in the
    ///         proof that runs it).
    /// @param seed The seed.
    /// @param count Challenges wanted.
    /// @return gasUsed Gas of the draw (the library call included).
    /// @return drawn The accepted challenges.
    function draw(
        bytes32 seed,
        uint256 count
    ) external view returns (uint256 gasUsed, IStorageMarket.Challenge[] memory drawn) {
        uint256 before = gasleft();
        (drawn, ) = DataSetProving.draw(_s, PROVIDER, EPOCH, seed, count);
        gasUsed = before - gasleft();
    }
}
