// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IStorageMarket } from "../interfaces/IStorageMarket.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { MarketLedger } from "../payments/MarketLedger.sol";
import { DealAccounting } from "./libraries/DealAccounting.sol";
import { DealSlot } from "./libraries/DealSlot.sol";
import { DealTerms } from "./libraries/DealTerms.sol";
import { FaultLog } from "./libraries/FaultLog.sol";
import { PackedDealList } from "./libraries/PackedDealList.sol";
import { StorageParams } from "./libraries/StorageParams.sol";

/// @title StorageMarketBase
/// @notice State shared by the deal and proof halves of the storage market: proving-period clock, deal
///         commitments, provider proving state, active-deal lists, fault logs and the accrual formula. Money is
///         the market's `MarketLedger`.
abstract contract StorageMarketBase is IStorageMarket, MarketLedger {
    uint256 internal immutable _provingPeriod;
    uint256 internal immutable _genesis;
    uint256 internal immutable _maxMissedProofBounty;

    Parameters internal _params;
    uint64 internal _lastDealId;

    mapping(uint64 id => uint256 word) internal _deals;
    mapping(address provider => ProviderProofState) internal _proofStates;
    mapping(address provider => PackedDealList.List) internal _activeLists;
    mapping(address provider => FaultLog.Log) internal _faultLogs;

    /// @param registry_ Provider registry (same token).
    /// @param token_ Payment token.
    /// @param provingPeriod_ Proving period length in seconds (bounded, fixed for the market's life).
    /// @param maxMissedProofBounty_ Deployment cap on the missed-proof bounty parameter.
    constructor(
        IProviderRegistry registry_,
        IERC20 token_,
        uint256 provingPeriod_,
        uint256 maxMissedProofBounty_
    ) MarketLedger(registry_, token_) {
        if (registry_.token() != address(token_))
            revert MarketTokenMismatch(address(token_), registry_.token());
        StorageParams.validateProvingPeriod(provingPeriod_);
        _provingPeriod = provingPeriod_;
        _genesis = block.timestamp;
        _maxMissedProofBounty = maxMissedProofBounty_;
    }

    // ------------------------------------------------------------------ clock

    function _currentPeriod() internal view returns (uint256) {
        return (block.timestamp - _genesis) / _provingPeriod;
    }

    function _periodStart(uint256 period) internal view returns (uint256) {
        return _genesis + period * _provingPeriod;
    }

    // ------------------------------------------------------------------ deal commitments

    /// @dev The stored word of `d`, after checking that `d` matches its commitment.
    function _checkedDeal(Deal calldata d) internal view returns (uint256 word) {
        word = _deals[d.id];
        if (word == 0 || DealSlot.termsHash(word) != DealTerms.hash(d)) revert MarketUnknownDeal(d.id);
    }

    // ------------------------------------------------------------------ accrual

    function _clock() internal view returns (DealAccounting.Clock memory) {
        return DealAccounting.Clock({ genesis: _genesis, provingPeriod: _provingPeriod });
    }

    function _accrue(Deal calldata d, uint256 word) internal view returns (DealAccounting.Accrual memory) {
        return _accrue(d, word, type(uint256).max);
    }

    function _accrue(
        Deal calldata d,
        uint256 word,
        uint256 startHint
    ) internal view returns (DealAccounting.Accrual memory) {
        return
            DealAccounting.accrue(
                _faultLogs[d.provider],
                _clock(),
                d,
                word,
                _proofStates[d.provider].nextPeriod,
                startHint
            );
    }

    // ------------------------------------------------------------------ nonces

    mapping(address client => mapping(uint256 word => uint256 bits)) private _nonceBits;

    function _nonceSpent(address client, uint64 nonce) internal view returns (bool) {
        return (_nonceBits[client][nonce >> 8] >> (nonce & 0xff)) & 1 == 1;
    }

    function _spendNonce(address client, uint64 nonce) internal {
        _nonceBits[client][nonce >> 8] |= uint256(1) << (nonce & 0xff);
    }
}
