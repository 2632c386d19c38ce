// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MarketInvariantChecks } from "./MarketInvariantChecks.sol";

/// @notice Invariants of the storage market and its retrieval challenges under random publish / prove / fault /
///         settle / end / challenge / answer / enforce / withdraw / unbond sequences driven by RetrievalHandler (failOnRevert is false in the default profile; the handler
///         bounds its inputs so that almost every call succeeds — see HandlerCoverage.t.sol).
/// @dev The runner can fuzz the handler only if MarketHandler.sol is compiled as a test root: run the whole
///      suite, or list it (`npx hardhat test solidity test/solidity/invariants/*.sol`). After editing a linked
///      library (ProvingLib, DealAccounting, StorageParams), run `npx hardhat compile` first: a run limited to
///      test files links the library artifacts of the last full build.
contract StorageMarketInvariants is MarketInvariantChecks {
    /// @notice A target contract with the selectors the fuzzer may call on it.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    function setUp() public {
        _deployHandler();
    }

    /// @notice Only the handler is fuzzed.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice Only the handler's actions are fuzzed (not its views).
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), handler.actions());
    }

    /// @notice Market token balance == sum of ledger balances + remaining escrow of live deals.
    function invariant_marketTokensAreLedgerPlusEscrow() public view {
        _checkMarketSolvency();
    }

    /// @notice Registry token balance == sum over providers of free + locked + unbonding.
    function invariant_registryTokensAreTotalStake() public view {
        _checkRegistrySolvency();
    }

    /// @notice Registry locked stake of each provider == collateral of its live deals.
    function invariant_lockedStakeIsLiveCollateral() public view {
        _checkLockedCollateral();
    }

    /// @notice No deal pays more than price * duration.
    function invariant_noDealPaysMoreThanPriceTimesDuration() public view {
        _checkPaymentsCapped();
    }

    /// @notice Challenge-contract token balance == sum of its ledger balances + bonds of open challenges.
    function invariant_bondsAreLedgerPlusOpenBonds() public view {
        _checkBondsConserved();
    }

    /// @notice Ended deals never reappear; nextPeriod and missedPeriods never decrease; activeDeals == live deals.
    function invariant_stateTransitionsAreLegal() public view {
        _checkStateTransitions();
    }
}
