// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IComputeMarket } from "../../../contracts/interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { ProviderRegistry } from "../../../contracts/registry/ProviderRegistry.sol";
import { StorageMarket } from "../../../contracts/storage/StorageMarket.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { ComputeHandler } from "./ComputeHandler.sol";
import { ComputeInvariantChecks } from "./ComputeInvariantChecks.sol";
import { DataSetHandler } from "./DataSetHandler.sol";

/// @notice The storage market and the compute market on one registry and token, under random sequences mixing
///         both handlers' actions: each market's tokens are conserved, the shared registry holds exactly the stake
///         of both markets' providers plus the slashes it owes each market, and every provider's locked stake is
///         exactly the collateral of its data sets (by class) or of its active bids and live leases.
contract StorageAndComputeInvariantTest is ComputeInvariantChecks {
    DataSetHandler internal storageHandler;
    StorageMarket internal market;

    function setUp() public {
        TestStablecoin token = new TestStablecoin(address(this));
        ProviderRegistry registry = new ProviderRegistry(IERC20(address(token)), address(this), 86_400);
        market = new StorageMarket(
            IProviderRegistry(address(registry)),
            IERC20(address(token)),
            address(this),
            address(0x7EA5),
            3600,
            100e6,
            IStorageMarket.Parameters({
                proofWindow: 1800,
                challengeCount: 4,
                challengeFinality: 2,
                maxFaults: 3,
                missedFaultPenaltyBps: 1000,
                declaredFaultPenaltyBps: 500,
                providerTerminationFeeBps: 2000,
                faultTerminationBountyBps: 1000,
                treasuryShareBps: 1000,
                maxNoticePeriods: 720,
                maxDataSetSize: uint64(1) << 50,
                missedProofPenalty: 1e6,
                reporterShareBps: 2_000
            })
        );
        registry.grantRole(registry.MARKET_ROLE(), address(market));
        storageHandler = new DataSetHandler(token, registry, market);
        token.transferOwnership(address(storageHandler));
        storageHandler.setUp();
        computeHandler = new ComputeHandler(token, registry, address(storageHandler));
        registry.grantRole(registry.MARKET_ROLE(), address(computeHandler.compute()));
        compute = IComputeMarket(address(computeHandler.compute()));
        computeRegistry = IProviderRegistry(address(registry));
        computeToken = token;
    }

    /// @notice Random sequences of 48 actions, each a storage or a compute action, every invariant checked after
    ///         every action.
    function test_fuzz_mixedSequences_keepBothMarketsInvariants(uint256 seed) public {
        for (uint256 i = 0; i < 48; ++i) {
            uint256 r = rand(seed, i);
            if (r % 2 == 0) _computeAct(r >> 1);
            else _storageAct(r >> 1);
            checkAll();
        }
    }

    /// @notice Storage-market tokens + tokens the registry holds for it == its ledger balances + data set escrows +
    ///         the proof bond it holds.
    function invariant_storageTokensAreLedgerPlusEscrow() public view {
        uint256 owed;
        address[] memory a = storageHandler.accounts();
        for (uint256 i = 0; i < a.length; ++i) owed += market.balanceOf(a[i]);
        uint256 n = storageHandler.idCount();
        for (uint256 i = 0; i < n; ++i) owed += market.dataSet(storageHandler.ids(i)).escrow;
        (uint256 bond, ) = market.proofBond(storageHandler.provider());
        assertEq(
            computeToken.balanceOf(address(market)) + computeRegistry.slashedOwedTo(address(market)),
            owed + bond,
            "storage tokens + held by the registry == ledger + escrows + bond"
        );
    }

    /// @notice Registry tokens == stake of both markets' providers + slashed tokens owed to each market.
    function invariant_sharedRegistryTokensAreStakePlusOwedSlashes() public view {
        assertEq(
            computeToken.balanceOf(address(computeRegistry)),
            _computeStake() +
                _stakeOf(storageHandler.provider()) +
                computeRegistry.slashedOwedTo(address(market)) +
                computeRegistry.slashedOwedTo(address(compute)),
            "registry tokens == stake of both markets' providers + owed slashes"
        );
    }

    /// @notice Locked stake == Σ class capacities × rate (storage provider; its proof bond is held by the market,
    ///         not locked); == active bids + live leases (compute).
    function invariant_lockedStakeIsLiveCollateral() public view {
        uint256 expected;
        uint256 n = storageHandler.idCount();
        for (uint256 i = 0; i < n; ++i) expected += storageHandler.expectedCollateral(storageHandler.ids(i));
        assertEq(
            computeRegistry.stakeInfo(storageHandler.provider()).locked,
            expected,
            "storage locked == sum of class capacities"
        );
        _checkComputeCollateral();
    }

    /// @notice Every invariant of both markets.
    function checkAll() public view {
        invariant_storageTokensAreLedgerPlusEscrow();
        invariant_sharedRegistryTokensAreStakePlusOwedSlashes();
        invariant_lockedStakeIsLiveCollateral();
        _checkComputeSolvency();
        _checkTreasuryShares();
        _checkLeaseTransitions();
    }

    function _storageAct(uint256 r) internal {
        uint256 action = r % 12;
        uint256 a = r >> 8;
        uint256 b = r >> 128;
        if (action == 0) storageHandler.create(uint128(a));
        else if (action == 1) storageHandler.topUp(a, b);
        else if (action == 2 || action == 3) storageHandler.update(a, b);
        else if (action == 4 || action == 5) storageHandler.prove();
        else if (action == 6) storageHandler.skipPeriods(a);
        else if (action == 7) storageHandler.report();
        else if (action == 8) storageHandler.settleAll();
        else if (action == 9) storageHandler.withdrawEscrow(a, b);
        else if (action == 10) storageHandler.terminate(a, b % 2 == 0);
        else {
            storageHandler.finalize(a);
            storageHandler.withdrawBalances();
        }
    }
}
