// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { ProviderRegistry } from "../../../contracts/registry/ProviderRegistry.sol";
import { DataSetMath } from "../../../contracts/storage/libraries/DataSetMath.sol";
import { StorageMarket } from "../../../contracts/storage/StorageMarket.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { TestBase } from "../utils/TestBase.sol";

/// @notice Drives one provider's data sets through random creations, top-ups, signed states, proofs, missed
///         periods, settlements, withdrawals, terminations and finalizations, keeping ghost totals for the checks.
/// @dev Trees are uniform: every leaf holds `LEAF` and spans are powers of two, so the root of class c is u_c with
///      u_0 = sha256(LEAF), u_{i+1} = sha256(u_i ‖ u_i), and every path of class c is [u_0 .. u_{c-1}].
contract DataSetHandler is TestBase {
    uint256 internal constant CLIENT_PK = 0xC11E;
    uint256 internal constant PERIOD = 3600;
    uint256 internal constant MAX_CLASS = 20;
    bytes32 internal constant LEAF_LO = keccak256("lo");
    bytes32 internal constant LEAF_HI = keccak256("hi");

    TestStablecoin public token;
    ProviderRegistry public registry;
    StorageMarket public market;
    address public client;
    address public provider = address(0xBEEF);
    address public watcher = address(0xCAFE);
    address public treasury = address(0x7EA5);

    bytes32[MAX_CLASS + 1] internal u;
    uint64[] public ids;
    mapping(uint64 id => uint256) public toppedUp;
    mapping(uint64 id => uint256) public lockedClassPlusOne;
    uint64 internal nonce;

    /// @param token_ Payment token (owned by this handler, which mints).
    /// @param registry_ Registry on `token_` (the market holds its MARKET_ROLE).
    /// @param market_ The market under test (deployed by the test, so that this handler links no library).
    constructor(TestStablecoin token_, ProviderRegistry registry_, StorageMarket market_) {
        client = vm.addr(CLIENT_PK);
        token = token_;
        registry = registry_;
        market = market_;
        u[0] = sha256(abi.encode(LEAF_LO, LEAF_HI));
        for (uint256 i = 0; i < MAX_CLASS; ++i) u[i + 1] = sha256(abi.encode(u[i], u[i]));
    }

    /// @notice Fund and register the provider and the client (after the test hands this handler the token).
    function setUp() external {
        token.mint(provider, 1e15);
        vm.startPrank(provider);
        token.approve(address(registry), type(uint256).max);
        registry.register(provider, "https://p", 1, 1);
        registry.stake(provider, 1e15);
        vm.stopPrank();
        token.mint(client, 1e15);
        vm.prank(client);
        token.approve(address(market), type(uint256).max);
    }

    function accounts() external view returns (address[] memory a) {
        a = new address[](4);
        (a[0], a[1], a[2], a[3]) = (client, provider, watcher, treasury);
    }

    function idCount() external view returns (uint256) {
        return ids.length;
    }

    // ------------------------------------------------------------------ actions

    function create(uint128 perTiB) external {
        if (ids.length >= 12) return;
        IStorageMarket.CreateDataSet memory t = IStorageMarket.CreateDataSet({
            client: client,
            provider: provider,
            pricePerTiBMonth: 2_500_000_000,
            collateralPerTiB: uint128(bound(perTiB, 0, 1e12)),
            noticePeriods: 1,
            nonce: ++nonce,
            deadline: uint64(block.timestamp + 1)
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(CLIENT_PK, market.createDigest(t));
        vm.prank(provider);
        uint64 id = market.createDataSet(t, abi.encodePacked(r, s, v));
        ids.push(id);
        _topUp(id, 1_000e6);
    }

    function topUp(uint256 seed, uint256 amount) external {
        if (ids.length == 0) return;
        uint64 id = ids[seed % ids.length];
        if (market.dataSet(id).status != IStorageMarket.Status.Live) return;
        _topUp(id, bound(amount, 1, 10_000e6));
    }

    function update(uint256 seed, uint256 cls) external {
        if (ids.length == 0) return;
        uint64 id = ids[seed % ids.length];
        IStorageMarket.DataSetView memory d = market.dataSet(id);
        if (d.status != IStorageMarket.Status.Live) return;
        uint256 c = bound(cls, 0, MAX_CLASS + 1);
        uint64 span = c == MAX_CLASS + 1 ? 0 : uint64(uint256(1) << c);
        IStorageMarket.DataSetState memory st = IStorageMarket.DataSetState({
            dataSetId: id,
            version: d.version + 1,
            root: span == 0 ? bytes32(0) : u[c],
            span: span
        });
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(CLIENT_PK, market.stateDigest(st));
        IStorageMarket.SignedState[] memory batch = new IStorageMarket.SignedState[](1);
        batch[0] = IStorageMarket.SignedState({
            state: st,
            signer: client,
            signature: abi.encodePacked(r, s, v)
        });
        vm.prank(provider);
        uint256 applied = market.updateDataSets(batch);
        if (applied == 1) lockedClassPlusOne[id] = span == 0 ? 0 : c + 1;
    }

    function prove() external {
        uint32 n = market.proofState(provider).nextPeriod;
        uint256 end = market.periodStart(uint256(n) + 1);
        if (block.timestamp >= end) return; // behind: a report or a change resolves it first
        if (block.timestamp < end - 1800) vm.warp(end - 1800);
        vm.roll(block.number + 3);
        if (market.challengeSeed(provider) == bytes32(0)) return;
        IStorageMarket.Challenge[] memory drawn = market.challengesFor(provider);
        IStorageMarket.ChallengeAnswer[] memory answers = new IStorageMarket.ChallengeAnswer[](drawn.length);
        for (uint256 i = 0; i < drawn.length; ++i) {
            if (drawn[i].declared) continue;
            bytes32[] memory path = new bytes32[](drawn[i].depth);
            for (uint256 k = 0; k < path.length; ++k) path[k] = u[k];
            answers[i] = IStorageMarket.ChallengeAnswer({ leaf: [LEAF_LO, LEAF_HI], path: path });
        }
        vm.prank(provider);
        market.submitProof(n, answers);
    }

    function skipPeriods(uint256 count) external {
        vm.warp(block.timestamp + bound(count, 1, 3) * PERIOD);
        vm.roll(block.number + 5);
    }

    function report() external {
        vm.prank(watcher);
        try market.reportMissedProofs(provider) {} catch {} // solhint-disable-line no-empty-blocks
    }

    function settleAll() external {
        market.settleDataSets(ids);
    }

    function withdrawEscrow(uint256 seed, uint256 amount) external {
        if (ids.length == 0) return;
        uint64 id = ids[seed % ids.length];
        uint256 free = market.withdrawableEscrow(id);
        if (free == 0) return;
        vm.prank(client);
        market.withdrawEscrow(id, bound(amount, 1, free));
    }

    function terminate(uint256 seed, bool byProvider) external {
        if (ids.length == 0) return;
        uint64 id = ids[seed % ids.length];
        if (market.dataSet(id).status != IStorageMarket.Status.Live) return;
        vm.prank(byProvider ? provider : client);
        market.terminateDataSet(id);
    }

    function finalize(uint256 seed) external {
        if (ids.length == 0) return;
        uint64 id = ids[seed % ids.length];
        try market.finalizeDataSet(id) {} catch {} // solhint-disable-line no-empty-blocks
        if (market.dataSet(id).status == IStorageMarket.Status.Finalized) lockedClassPlusOne[id] = 0;
    }

    function terminateFaulty(uint256 seed) external {
        if (ids.length == 0) return;
        uint64 id = ids[seed % ids.length];
        vm.prank(watcher);
        try market.terminateFaultyDataSet(id) {} catch {} // solhint-disable-line no-empty-blocks
        if (market.dataSet(id).status == IStorageMarket.Status.Finalized) lockedClassPlusOne[id] = 0;
    }

    function withdrawBalances() external {
        uint256 b = market.balanceOf(provider);
        if (b != 0) {
            vm.prank(provider);
            market.withdraw(b);
        }
    }

    function _topUp(uint64 id, uint256 amount) private {
        vm.prank(client);
        market.topUp(id, amount);
        toppedUp[id] += amount;
    }

    /// @notice Collateral the ghost expects locked for `id`.
    function expectedCollateral(uint64 id) external view returns (uint256) {
        uint256 plusOne = lockedClassPlusOne[id];
        return plusOne == 0 ? 0 : DataSetMath.collateral(market.dataSet(id).collateralPerTiB, plusOne - 1);
    }
}
