// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IComputeMarket } from "../../../contracts/interfaces/IComputeMarket.sol";
import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { ProviderRegistry } from "../../../contracts/registry/ProviderRegistry.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { ComputeHandler } from "./ComputeHandler.sol";
import { ComputeInvariantChecks } from "./ComputeInvariantChecks.sol";

/// @notice Invariants of the compute market alone under random sequences of every action of the ComputeHandler
///         (orders, bids, rejections, acceptances, cancellations, expiries, heartbeats, missed-heartbeat reports,
///         settlements, top-ups, notice, closes of every kind, withdrawals): its tokens are conserved, locked
///         collateral is exactly Σ active bids and live leases, the registry holds exactly the providers' stake
///         plus the slashes it owes the market, and lease accounting only moves legally.
/// @dev Driven from a fuzzed seed, as the data set sequences are: the market links a library (ComputeParams).
contract ComputeMarketInvariantTest is ComputeInvariantChecks {
    uint256 internal constant DEPTH = 48;

    function setUp() public {
        TestStablecoin token = new TestStablecoin(address(this));
        ProviderRegistry registry = new ProviderRegistry(IERC20(address(token)), address(this), 86_400);
        computeHandler = new ComputeHandler(token, registry, address(this));
        registry.grantRole(registry.MARKET_ROLE(), address(computeHandler.compute()));
        compute = IComputeMarket(address(computeHandler.compute()));
        computeRegistry = IProviderRegistry(address(registry));
        computeToken = token;
    }

    /// @notice Random sequences of 48 compute actions (each fuzz run a different one), every invariant checked
    ///         after every action.
    function test_fuzz_randomSequences_keepTheComputeInvariants(uint256 seed) public {
        for (uint256 i = 0; i < DEPTH; ++i) {
            _computeAct(rand(seed, i));
            checkAll();
        }
    }

    /// @notice The handler really exercises the market: summed over fixed sequences, every action path did
    ///         something, and leases were accepted in every sequence.
    function test_computeHandler_exercisesEveryPath() public {
        string[17] memory paths = [
            "stake",
            "warp",
            "postOrder",
            "bid",
            "withdrawBid",
            "rejectBid",
            "accept",
            "cancelOrder",
            "heartbeat",
            "reportMissed",
            "settle",
            "topUp",
            "giveNotice",
            "close",
            "withdraw",
            "openLease",
            "switchTreasury"
        ];
        uint256[17] memory totals;
        uint256 sequences = 8;
        for (uint256 run = 0; run < sequences; ++run) {
            uint256 snapshot = vm.snapshotState();
            for (uint256 i = 0; i < 64; ++i) _computeAct(rand(run, i));
            checkAll();
            for (uint256 k = 0; k < paths.length; ++k) totals[k] += computeHandler.calls(paths[k]);
            vm.revertToState(snapshot);
        }
        for (uint256 k = 0; k < paths.length; ++k) assertGe(totals[k], 1, paths[k]);
    }

    /// @notice Registry tokens == the compute providers' stake + slashed tokens owed to the market.
    function invariant_registryTokensAreStakePlusOwedSlashes() public view {
        assertEq(
            computeToken.balanceOf(address(computeRegistry)),
            _computeStake() + computeRegistry.slashedOwedTo(address(compute)),
            "registry tokens == stake + owed slashes"
        );
    }

    /// @notice Every invariant (public so a failing sequence names the whole set).
    function checkAll() public view {
        _checkComputeSolvency();
        _checkTreasuryShares();
        _checkComputeCollateral();
        _checkLeaseTransitions();
        invariant_registryTokensAreStakePlusOwedSlashes();
    }
}
