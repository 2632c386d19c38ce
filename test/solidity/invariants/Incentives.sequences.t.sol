// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { ProviderRegistry } from "../../../contracts/registry/ProviderRegistry.sol";
import { StorageMarket } from "../../../contracts/storage/StorageMarket.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { TestBase } from "../utils/TestBase.sol";
import { DeviatingProviderHandler } from "./DeviatingProviderHandler.sol";

/// @notice Issue 12's invariant: over fuzzed parameters within their bounds and random sequences of deviations
///         (skipped proofs, self-reports through a second address, self-termination for faults, termination with
///         notice), a deviating provider's total over all its addresses ends strictly below its honest twin's
///         whenever it skipped a proof or was terminated for faults, and never above it otherwise.
/// @dev Driven from fuzzed seeds, as the data set sequences are (the market links libraries).
contract IncentivesInvariantTest is TestBase {
    uint256 internal constant PENALTY_CAP = 100e6;

    DeviatingProviderHandler internal handler;

    function _deploy(uint256 seed) internal returns (DeviatingProviderHandler h) {
        TestStablecoin token = new TestStablecoin(address(this));
        ProviderRegistry registry = new ProviderRegistry(IERC20(address(token)), address(this), 86_400);
        uint16 missedBps = uint16(bound(rand(seed, 100), 0, 5_000));
        StorageMarket market = new StorageMarket(
            IProviderRegistry(address(registry)),
            IERC20(address(token)),
            address(this),
            address(0x7EA5),
            3600,
            PENALTY_CAP,
            IStorageMarket.Parameters({
                proofWindow: 1800,
                challengeCount: 4,
                challengeFinality: 2,
                maxFaults: uint8(bound(rand(seed, 101), 1, 6)),
                missedFaultPenaltyBps: missedBps,
                declaredFaultPenaltyBps: uint16(bound(rand(seed, 102), 0, missedBps)),
                providerTerminationFeeBps: uint16(bound(rand(seed, 103), 0, 10_000)),
                faultTerminationBountyBps: uint16(bound(rand(seed, 104), 0, 2_000)),
                treasuryShareBps: uint16(bound(rand(seed, 105), 0, 5_000)),
                maxNoticePeriods: 720,
                maxDataSetSize: uint64(1) << 50,
                missedProofPenalty: uint128(bound(rand(seed, 106), 0, PENALTY_CAP)),
                reporterShareBps: uint16(bound(rand(seed, 107), 0, 5_000))
            })
        );
        registry.grantRole(registry.MARKET_ROLE(), address(market));
        h = new DeviatingProviderHandler(token, registry, market);
        token.transferOwnership(address(h));
        h.open(
            rand(seed, 108),
            uint128(bound(rand(seed, 109), 0, 1e12)),
            uint32(bound(rand(seed, 110), 0, 3))
        );
    }

    /// @notice A random run of 10 periods: the deviator's total ends below the honest twin's whenever it deviated.
    function test_fuzz_aDeviatingProviderEndsBelowItsHonestTwin(uint256 seed) public {
        handler = _deploy(seed);
        for (uint256 i = 0; i < 10; ++i) {
            uint256 r = rand(seed, i);
            if (r % 13 == 0) handler.selfTerminateForFaults();
            if (r % 29 == 1) handler.terminateWithNotice();
            handler.period((r >> 8) % 3 == 0, (r >> 16) % 2 == 0);
        }
        handler.finish(rand(seed, 300) % 2 == 0);
        _check();
    }

    /// @notice The deviator skips every proof and reports itself through its second address each period, then
    ///         terminates itself for faults: the worst self-dealing run still loses.
    function test_fuzz_selfReportingEveryPeriodAndSelfTerminating_loses(uint256 seed) public {
        handler = _deploy(seed);
        for (uint256 i = 0; i < 8; ++i) {
            handler.period(true, true);
            handler.selfTerminateForFaults();
        }
        handler.finish(rand(seed, 300) % 2 == 0);
        assertTrue(handler.deviated(), "the run deviated");
        _check();
    }

    /// @notice The deviator skips proofs and reports itself through its second address each time: what its
    ///         stake loses to the proof bond is never made up by what the second address earns.
    function test_fuzz_selfReportingMissedProofs_neverRepaysThePenalty(uint256 seed) public {
        handler = _deploy(seed);
        for (uint256 i = 0; i < 6; ++i) handler.period(rand(seed, 200 + i) % 4 != 0, true);
        handler.finish(true);
        _check();
    }

    /// @notice A provider that never deviates ends level with its twin (the comparison is fair).
    function test_fuzz_anHonestRun_endsLevelWithItsTwin(uint256 seed) public {
        handler = _deploy(seed);
        for (uint256 i = 0; i < 6; ++i) handler.period(false, false);
        handler.finish(rand(seed, 300) % 2 == 0);
        assertEq(handler.deviatorWealth(), handler.honestWealth(), "honest twins end level");
    }

    function _check() internal view {
        // Bounties never pay for the penalty they come out of: whatever the deviator's stake lost, its second
        // address got back strictly less.
        (uint256 ownStake, uint256 second) = handler.deviatorSplit();
        uint256 start = handler.STAKE();
        if (ownStake < start)
            assertTrue(ownStake + second < start, "self-reported bounties are below the penalty");
        uint256 dev = handler.deviatorWealth();
        uint256 honest = handler.honestWealth();
        if (handler.deviated()) assertTrue(dev < honest, "a deviating provider ends below its honest twin");
        else assertLe(dev, honest, "a provider that only terminated with notice never ends above its twin");
    }
}
