// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ComputeInvariantChecks } from "./ComputeInvariantChecks.sol";

/// @notice Invariants of the compute market and the storage market together on one registry and token, under
///         random sequences mixing both handlers' actions (orders, bids, leases, heartbeats, reports, top-ups,
///         notice, closes and withdrawals; deals, proofs, faults, endings and retrieval challenges). The handlers
///         bound their inputs so that almost every call succeeds (see ComputeHandlerCoverage.t.sol).
/// @dev As for StorageMarketInvariants, the handlers must be compiled as test roots: run the whole suite or list
///      the invariants folder (`npx hardhat test solidity test/solidity/invariants/*.sol`).
contract ComputeAndStorageInvariants is ComputeInvariantChecks {
    /// @notice A target contract with the selectors the fuzzer may call on it.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    function setUp() public {
        _deployHandlers();
    }

    /// @notice Both handlers are fuzzed.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](2);
        targets[0] = address(handler);
        targets[1] = address(computeHandler);
    }

    /// @notice Only the handlers' actions are fuzzed (not their views).
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        targets = new FuzzSelector[](2);
        targets[0] = FuzzSelector(address(handler), handler.actions());
        targets[1] = FuzzSelector(address(computeHandler), computeHandler.actions());
    }

    /// @notice Compute-market tokens == its ledger balances + open order deposits + live lease escrow and buffers.
    function invariant_computeTokensAreLedgerPlusDepositsAndEscrow() public view {
        _checkComputeSolvency();
    }

    /// @notice Storage-market tokens == its ledger balances + live deal escrow (unchanged by the compute market).
    function invariant_storageTokensAreLedgerPlusEscrow() public view {
        _checkMarketSolvency();
    }

    /// @notice Registry tokens == stake of both markets' providers + slashed tokens owed to each market.
    function invariant_sharedRegistryTokensAreStakePlusOwedSlashes() public view {
        _checkSharedRegistrySolvency();
    }

    /// @notice Every token the system holds is owed to someone (stake, ledgers, escrows, deposits, buffers, bonds).
    function invariant_systemFundsAreConserved() public view {
        _checkSystemFundsConserved();
    }

    /// @notice Locked stake == collateral of live deals (storage providers) or of active bids and live leases
    ///         (compute providers).
    function invariant_lockedStakeIsLiveCollateral() public view {
        _checkLockedCollateral();
        _checkComputeCollateral();
    }

    /// @notice Lease accounting and state transitions are legal; storage deal transitions too.
    function invariant_stateTransitionsAreLegal() public view {
        _checkLeaseTransitions();
        _checkStateTransitions();
        _checkPaymentsCapped();
        _checkBondsConserved();
    }
}
