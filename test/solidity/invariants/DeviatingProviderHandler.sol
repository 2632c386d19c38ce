// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { ProviderRegistry } from "../../../contracts/registry/ProviderRegistry.sol";
import { StorageMarket } from "../../../contracts/storage/StorageMarket.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { TestBase } from "../utils/TestBase.sol";

/// @notice Plays two providers on identical data sets of one client against the real market: `honest` proves
///         every period; `deviator` skips proofs, reports itself through its second address, terminates itself
///         for faults through it, or terminates with notice, as the fuzzer chooses. `wealthOf` sums everything an
///         actor holds (stake in every state plus ledger balances of all its addresses), so the test can compare
///         the deviator's total with its honest twin's.
/// @dev Trees are uniform (as in DataSetHandler): every leaf is (LEAF_LO, LEAF_HI), the root of class c is u_c and
///      every path of class c is [u_0 .. u_{c-1}].
contract DeviatingProviderHandler is TestBase {
    uint256 internal constant CLIENT_PK = 0xC11E;
    uint256 public constant STAKE = 1e15;
    uint256 internal constant ESCROW = 1e13;
    uint256 internal constant MAX_CLASS = 26;
    bytes32 internal constant LEAF_LO = keccak256("lo");
    bytes32 internal constant LEAF_HI = keccak256("hi");

    TestStablecoin public immutable token;
    ProviderRegistry public immutable registry;
    StorageMarket public immutable market;
    address public immutable client;
    address public constant HONEST = address(0xA11CE);
    address public constant DEVIATOR = address(0xBAD);
    address public constant DEVIATOR_SECOND = address(0xBAD2);
    address public constant WATCHER = address(0xCAFE);

    bytes32[MAX_CLASS + 1] internal u;
    uint64 public honestId;
    uint64 public deviatorId;
    uint64 internal _nonce;
    /// @notice Whether the deviator left the honest path in a way that must cost it (a skipped proof or a
    ///         termination for faults).
    bool public deviated;
    /// @notice Whether the deviator terminated with notice (legal, but never better than staying).
    bool public terminated;

    constructor(TestStablecoin token_, ProviderRegistry registry_, StorageMarket market_) {
        token = token_;
        registry = registry_;
        market = market_;
        client = vm.addr(CLIENT_PK);
        u[0] = sha256(abi.encode(LEAF_LO, LEAF_HI));
        for (uint256 i = 0; i < MAX_CLASS; ++i) u[i + 1] = sha256(abi.encode(u[i], u[i]));
    }

    /// @notice Register and stake both providers, fund the client, and open one data set of class `cls` at
    ///         `collateralPerTiB` for each (identical terms, identical escrow).
    function open(uint256 cls, uint128 collateralPerTiB, uint32 notice) external {
        address[2] memory ps = [HONEST, DEVIATOR];
        for (uint256 i = 0; i < 2; ++i) {
            token.mint(ps[i], STAKE);
            vm.startPrank(ps[i]);
            token.approve(address(registry), type(uint256).max);
            registry.register(ps[i], "https://p", 1, 1);
            registry.stake(ps[i], STAKE);
            vm.stopPrank();
        }
        token.mint(client, 2 * ESCROW);
        vm.prank(client);
        token.approve(address(market), type(uint256).max);
        uint256 c = bound(cls, 20, MAX_CLASS);
        honestId = _create(HONEST, collateralPerTiB, notice, c);
        deviatorId = _create(DEVIATOR, collateralPerTiB, notice, c);
    }

    /// @notice One proving period: the honest provider proves; the deviator proves when `cheat` is false (after
    ///         resolving what it left behind: through its second address when `selfReport`, else a watcher),
    ///         skips the proof when it is true. Time then moves to the next period.
    function period(bool cheat, bool selfReport) external {
        uint256 n = market.currentPeriod();
        if ((selfReport || !cheat) && market.proofState(DEVIATOR).nextPeriod < n) {
            vm.prank(selfReport ? DEVIATOR_SECOND : WATCHER);
            try market.reportMissedProofs(DEVIATOR) {} catch {} // solhint-disable-line no-empty-blocks
        }
        // Into the proof window of period n, with the seeds mined.
        vm.warp(market.periodStart(n + 1) - 600);
        vm.roll(block.number + 5);
        _proveIfDue(HONEST);
        if (cheat) {
            if (_owesProof(DEVIATOR)) deviated = true;
        } else {
            _proveIfDue(DEVIATOR);
        }
        _finalizeIfOver(honestId);
        _finalizeIfOver(deviatorId);
        vm.warp(market.periodStart(n + 1));
        vm.roll(block.number + 1);
    }

    /// @notice The deviator has its second address terminate its data set for faults (when it has enough).
    function selfTerminateForFaults() external {
        vm.prank(DEVIATOR_SECOND);
        try market.terminateFaultyDataSet(deviatorId) {
            deviated = true;
        } catch {} // solhint-disable-line no-empty-blocks
    }

    /// @notice The deviator terminates its data set with notice (paying the termination fee).
    function terminateWithNotice() external {
        if (market.dataSet(deviatorId).status != IStorageMarket.Status.Live) return;
        vm.prank(DEVIATOR);
        market.terminateDataSet(deviatorId);
        terminated = true;
    }

    /// @notice Resolve what is left (the deviator's closed periods reported by its second address when
    ///         `selfReport`, else by a watcher; the honest provider has none) and settle both data sets.
    function finish(bool selfReport) external {
        vm.prank(selfReport ? DEVIATOR_SECOND : WATCHER);
        try market.reportMissedProofs(DEVIATOR) {} catch {} // solhint-disable-line no-empty-blocks
        vm.prank(WATCHER);
        try market.reportMissedProofs(HONEST) {} catch {} // solhint-disable-line no-empty-blocks
        uint64[] memory ids = new uint64[](2);
        (ids[0], ids[1]) = (honestId, deviatorId);
        market.settleDataSets(ids);
    }

    /// @notice Everything the honest provider holds.
    function honestWealth() external view returns (uint256) {
        return _stake(HONEST) + market.balanceOf(HONEST);
    }

    /// @notice Everything the deviator holds, over both its addresses.
    function deviatorWealth() external view returns (uint256) {
        return
            _stake(DEVIATOR) +
            market.balanceOf(DEVIATOR) +
            _stake(DEVIATOR_SECOND) +
            market.balanceOf(DEVIATOR_SECOND);
    }

    /// @notice The deviator's own stake, and everything its second address holds.
    function deviatorSplit() external view returns (uint256 ownStake, uint256 second) {
        return (_stake(DEVIATOR), _stake(DEVIATOR_SECOND) + market.balanceOf(DEVIATOR_SECOND));
    }

    // ------------------------------------------------------------------ internal

    /// @dev Stake in the registry plus the proof bond the market holds for `who` (its stake until slashed).
    function _stake(address who) internal view returns (uint256) {
        IProviderRegistry.StakeInfo memory s = registry.stakeInfo(who);
        (uint256 bond, ) = market.proofBond(who);
        return uint256(s.free) + s.locked + s.unbonding + bond;
    }

    function _create(
        address provider,
        uint128 collateralPerTiB,
        uint32 notice,
        uint256 c
    ) internal returns (uint64 id) {
        IStorageMarket.CreateDataSet memory t = IStorageMarket.CreateDataSet({
            client: client,
            provider: provider,
            pricePerTiBMonth: 2_500_000_000,
            collateralPerTiB: collateralPerTiB,
            noticePeriods: notice,
            nonce: ++_nonce,
            deadline: uint64(block.timestamp + 1)
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(CLIENT_PK, market.createDigest(t));
        vm.prank(provider);
        id = market.createDataSet(t, abi.encodePacked(r, s, v));
        vm.prank(client);
        market.topUp(id, ESCROW);
        IStorageMarket.DataSetState memory st = IStorageMarket.DataSetState({
            dataSetId: id,
            version: 1,
            root: u[c],
            span: uint64(uint256(1) << c)
        });
        (v, r, s) = vm.sign(CLIENT_PK, market.stateDigest(st));
        IStorageMarket.SignedState[] memory batch = new IStorageMarket.SignedState[](1);
        batch[0] = IStorageMarket.SignedState({
            state: st,
            signer: client,
            signature: abi.encodePacked(r, s, v)
        });
        vm.prank(provider);
        market.updateDataSets(batch);
    }

    /// @dev Whether `provider` has bytes frozen for its next period that is due now.
    function _owesProof(address provider) internal view returns (bool) {
        (uint256 frozen, ) = market.weight(provider);
        return frozen != 0 && market.proofState(provider).nextPeriod == market.currentPeriod();
    }

    function _proveIfDue(address provider) internal {
        if (!_owesProof(provider)) return;
        IStorageMarket.Challenge[] memory drawn = market.challengesFor(provider);
        IStorageMarket.ChallengeAnswer[] memory answers = new IStorageMarket.ChallengeAnswer[](drawn.length);
        for (uint256 i = 0; i < drawn.length; ++i) {
            if (drawn[i].declared) continue;
            bytes32[] memory path = new bytes32[](drawn[i].depth);
            for (uint256 k = 0; k < path.length; ++k) path[k] = u[k];
            answers[i] = IStorageMarket.ChallengeAnswer({ leaf: [LEAF_LO, LEAF_HI], path: path });
        }
        uint32 next = market.proofState(provider).nextPeriod;
        vm.prank(provider);
        market.submitProof(next, answers);
    }

    function _finalizeIfOver(uint64 id) internal {
        if (market.dataSet(id).status != IStorageMarket.Status.Ending) return;
        try market.finalizeDataSet(id) {} catch {} // solhint-disable-line no-empty-blocks
    }
}
