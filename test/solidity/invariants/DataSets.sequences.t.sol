// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { ProviderRegistry } from "../../../contracts/registry/ProviderRegistry.sol";
import { StorageMarket } from "../../../contracts/storage/StorageMarket.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { DataSetMath } from "../../../contracts/storage/libraries/DataSetMath.sol";
import { TestBase } from "../utils/TestBase.sol";
import { DataSetHandler } from "./DataSetHandler.sol";

/// @notice Invariants of the data set market under random sequences of every action (DataSetHandler):
///         conservation of tokens (the proof bond included), payments bounded by proven leaf-seconds, collateral =
///         Σ class capacities × rate.
contract DataSetsInvariantTest is TestBase {
    DataSetHandler internal handler;

    function setUp() public {
        TestStablecoin token = new TestStablecoin(address(this));
        ProviderRegistry registry = new ProviderRegistry(IERC20(address(token)), address(this), 86_400);
        StorageMarket market = new StorageMarket(
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
        handler = new DataSetHandler(token, registry, market);
        token.transferOwnership(address(handler));
        handler.setUp();
    }

    /// @notice Random sequences of 48 actions (each fuzz run a different sequence), the invariants checked after
    ///         every action. (Driven from a fuzzed seed: the runner's invariant mode does not identify a handler
    ///         that talks to a market with linked libraries.)
    function test_fuzz_randomSequences_keepTheInvariants(uint256 seed) public {
        for (uint256 i = 0; i < 48; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 action = r % 12;
            uint256 a = r >> 8;
            uint256 b = r >> 128;
            if (action == 0) handler.create(uint128(a));
            else if (action == 1) handler.topUp(a, b);
            else if (action == 2 || action == 3) handler.update(a, b);
            else if (action == 4 || action == 5) handler.prove();
            else if (action == 6) handler.skipPeriods(a);
            else if (action == 7) handler.report();
            else if (action == 8) handler.settleAll();
            else if (action == 9) handler.withdrawEscrow(a, b);
            else if (action == 10) {
                if (b % 2 == 0) handler.terminate(a, b % 4 == 0);
                else handler.terminateFaulty(a);
            } else {
                handler.finalize(a);
                handler.withdrawBalances();
            }
            invariant_conservation();
            invariant_paidAtMostProven();
            invariant_collateralByClass();
            invariant_bondConservation();
        }
    }

    /// @notice Tokens held + tokens the registry holds for the market == ledger balances + data set escrows + the
    ///         proof bond the market holds, exactly.
    function invariant_conservation() public view {
        IStorageMarket market = IStorageMarket(address(handler.market()));
        uint256 owed;
        address[] memory a = handler.accounts();
        for (uint256 i = 0; i < a.length; ++i) owed += market.balanceOf(a[i]);
        uint256 n = handler.idCount();
        for (uint256 i = 0; i < n; ++i) owed += market.dataSet(handler.ids(i)).escrow;
        (uint256 bond, ) = market.proofBond(handler.provider());
        assertEq(
            handler.token().balanceOf(address(market)) + handler.registry().slashedOwedTo(address(market)),
            owed + bond,
            "tokens + held by the registry == ledger + escrows + bond"
        );
    }

    /// @notice The proof bond moves between the provider's registry stake and the market and nowhere else: the
    ///         registry's tokens == the provider's stake + what it holds for the market; the bond is at most its
    ///         target, and zero once the provider has no data set open (released, never stuck).
    function invariant_bondConservation() public view {
        IStorageMarket market = IStorageMarket(address(handler.market()));
        ProviderRegistry registry = handler.registry();
        IProviderRegistry.StakeInfo memory s = registry.stakeInfo(handler.provider());
        assertEq(
            handler.token().balanceOf(address(registry)),
            uint256(s.free) + s.locked + s.unbonding + registry.slashedOwedTo(address(market)),
            "registry tokens == stake + held for the market"
        );
        (uint256 bond, uint256 open) = market.proofBond(handler.provider());
        IStorageMarket.Parameters memory p = market.parameters();
        assertLe(bond, (uint256(p.maxFaults) + 2) * p.missedProofPenalty, "bond <= target");
        if (open == 0) assertEq(bond, 0, "no data set open: bond released");
    }

    /// @notice A data set is paid at most for its proven leaf-seconds, and never more than was put in.
    function invariant_paidAtMostProven() public view {
        IStorageMarket market = IStorageMarket(address(handler.market()));
        uint256 n = handler.idCount();
        for (uint256 i = 0; i < n; ++i) {
            uint64 id = handler.ids(i);
            IStorageMarket.DataSetView memory d = market.dataSet(id);
            assertLe(
                d.paid,
                DataSetMath.earned(d.pricePerTiBMonth, d.leafSeconds),
                "paid <= earned(leafSeconds)"
            );
            assertLe(d.paid + d.escrow, handler.toppedUp(id), "paid + escrow <= topped up");
        }
    }

    /// @notice Collateral locked by the market == Σ over data sets of the capacity of the class they lock × rate
    ///         (the proof bond is not locked stake: the market holds it, see `invariant_conservation`).
    function invariant_collateralByClass() public view {
        uint256 expected;
        uint256 n = handler.idCount();
        for (uint256 i = 0; i < n; ++i) expected += handler.expectedCollateral(handler.ids(i));
        assertEq(
            handler.registry().stakeInfo(handler.provider()).locked,
            expected,
            "locked == sum of class capacities"
        );
    }

    /// @notice Concrete run of every action once, so the handler itself is known to work.
    function test_handler_everyActionRuns() public {
        handler.create(100e6);
        handler.create(0);
        handler.update(0, 10);
        handler.update(1, 3);
        handler.prove();
        handler.prove();
        handler.settleAll();
        handler.topUp(0, 5e6);
        handler.withdrawEscrow(0, 1e6);
        handler.skipPeriods(2);
        handler.report();
        handler.prove();
        handler.terminate(0, false);
        handler.prove();
        handler.finalize(0);
        handler.prove();
        handler.finalize(0);
        handler.withdrawBalances();
        assertEq(uint256(IStorageMarket(address(handler.market())).dataSet(1).status), 3, "finalized");
        invariant_conservation();
        invariant_paidAtMostProven();
        invariant_collateralByClass();
    }
}
