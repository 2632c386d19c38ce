// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { PermanentStorage } from "../../../contracts/durability/PermanentStorage.sol";
import { IPermanentStorage } from "../../../contracts/durability/interfaces/IPermanentStorage.sol";
import { DurabilityRules } from "../../../contracts/durability/libraries/DurabilityRules.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { TestBase } from "../utils/TestBase.sol";
import { DurabilityMarketMock } from "./DurabilityMarketMock.sol";

/// @notice The endowment's accounting under random sequences of every action: what the contract holds always
///         covers its obligations, the obligations are exactly Σ principal left + reserve + Σ owed, a file never
///         spends beyond its released schedule, and the reserve and everything owed can always be paid out.
contract PermanentAccountingTest is TestBase {
    uint256 internal constant PROVIDERS = 6;
    uint64 internal constant SPAN = uint64(1) << 30;

    TestStablecoin internal token;
    DurabilityMarketMock internal market;
    PermanentStorage internal perm;
    address internal constant UPLOADER = address(0xA11CE);
    address internal constant RECIPIENT = address(0x7EA5);
    bytes32[3] internal roots;
    // With three leaves the piece list is ((l0, l1), l2): the proofs below are built in setUp.
    bytes32 internal listRoot;
    mapping(uint32 index => bytes32[]) internal proofs;

    function setUp() public {
        token = new TestStablecoin(address(this));
        market = new DurabilityMarketMock(token);
        perm = new PermanentStorage(
            IStorageMarket(address(market)),
            IPermanentStorage.Config({
                referencePricePerTiBMonth: 2.5e6,
                declineBps: 50,
                horizonYears: 200,
                dataShards: 2,
                totalShards: 3,
                repairAllowanceBps: 5_000,
                feeBps: 100,
                maxPriceBps: 20_000,
                collateralPerTiB: 100e6,
                noticePeriods: 2,
                prepaidPeriods: 48,
                repairReward: 0.5e6,
                offerWindow: 600
            }),
            RECIPIENT
        );
        for (uint256 i = 0; i < PROVIDERS; ++i) market.register(_provider(i));
        bytes32[3] memory leaves;
        for (uint32 i = 0; i < 3; ++i) {
            roots[i] = keccak256(abi.encode("piece", i));
            leaves[i] = DurabilityRules.pieceLeaf(i, roots[i], SPAN, 0);
        }
        bytes32 l01 = _pair(leaves[0], leaves[1]);
        listRoot = _pair(l01, leaves[2]);
        proofs[0].push(leaves[1]);
        proofs[0].push(leaves[2]);
        proofs[1].push(leaves[0]);
        proofs[1].push(leaves[2]);
        proofs[2].push(l01);
    }

    /// @notice Random sequences of 40 actions, the invariants checked after each.
    function test_fuzz_randomSequences_keepTheEndowmentSolvent(uint256 seed) public {
        _store();
        for (uint256 i = 0; i < 40; ++i) {
            uint256 r = rand(seed, i);
            uint256 action = r % 10;
            uint256 fileId = 1 + ((r >> 8) % perm.fileCount());
            uint32 index = uint32((r >> 16) % 3);
            if (action == 0) _store();
            else if (action <= 3) _place(fileId, index, r >> 24);
            else if (action == 4) _lose(fileId, index, r >> 24);
            else if (action == 5) _renew(fileId, index, r >> 24);
            else if (action == 6) vm.warp(block.timestamp + bound(r >> 24, 1, 3 * 365 days));
            else if (action == 7) {
                try perm.sweep() {} catch {} // solhint-disable-line no-empty-blocks
                try perm.releaseReserve() {} catch {} // solhint-disable-line no-empty-blocks
            } else if (action == 8) _withdrawAll();
            else try perm.abandon(fileId) {} catch {} // solhint-disable-line no-empty-blocks
            _checkInvariants();
        }
        _withdrawAll();
        try perm.sweep() {} catch {} // solhint-disable-line no-empty-blocks
        try perm.releaseReserve() {} catch {} // solhint-disable-line no-empty-blocks
        _checkInvariants();
    }

    /// @notice The harness reaches every stage: three pieces live, one lost with compensation, re-placed with a
    ///         reward, then the file lost below k; the invariants hold throughout.
    function test_sequence_placeLoseRepairLose() public {
        _store();
        for (uint32 i = 0; i < 3; ++i) _place(1, i, i);
        assertEq(perm.file(1).livePieces, 3, "three live");
        assertTrue(perm.file(1).status == IPermanentStorage.FileStatus.Active, "active");
        _checkInvariants();
        _lose(1, 0, 5e6);
        assertEq(perm.file(1).livePieces, 2, "one lost");
        _place(1, 0, 3);
        assertEq(perm.file(1).livePieces, 3, "repaired");
        assertGe(perm.owed(_provider(3)), 1, "repair reward owed");
        _checkInvariants();
        _lose(1, 1, 0);
        _lose(1, 2, 0);
        assertTrue(perm.file(1).status == IPermanentStorage.FileStatus.Lost, "lost below k");
        _checkInvariants();
        perm.sweep();
        _withdrawAll();
        perm.releaseReserve();
        _checkInvariants();
        assertEq(perm.obligations(), 0, "everything paid out");
    }

    function _checkInvariants() internal view {
        uint256 held = token.balanceOf(address(perm)) + market.balanceOf(address(perm));
        uint256 obligations = perm.obligations();
        assertGe(held, obligations, "holdings cover the obligations");
        uint256 sum = perm.reserve() + perm.owed(UPLOADER);
        for (uint256 i = 0; i < PROVIDERS; ++i) sum += perm.owed(_provider(i));
        uint256 n = perm.fileCount();
        for (uint256 id = 1; id <= n; ++id) {
            IPermanentStorage.File memory f = perm.file(id);
            assertLe(f.spent, f.principal, "spent within the principal");
            if (
                f.status == IPermanentStorage.FileStatus.Pending ||
                f.status == IPermanentStorage.FileStatus.Active
            ) {
                sum += f.principal - f.spent;
                assertLe(f.spent, perm.releasedOf(id), "spent within the schedule");
            } else {
                assertEq(f.spent, f.principal, "a closed file keeps nothing");
            }
        }
        assertEq(obligations, sum, "obligations = principal left + reserve + owed");
    }

    function _store() internal {
        (uint256 principal, uint256 fee) = perm.quote(SPAN);
        token.mint(UPLOADER, principal + fee);
        vm.startPrank(UPLOADER);
        token.approve(address(perm), principal + fee);
        perm.storePermanent(listRoot, SPAN, principal + fee);
        vm.stopPrank();
    }

    function _place(uint256 fileId, uint32 index, uint256 r) internal {
        address provider = _provider(r % PROVIDERS);
        uint128 price = uint128(bound(r >> 8, 1, 5e6));
        vm.prank(provider);
        try perm.offer(fileId, index, price) {} catch {
            return;
        }
        vm.warp(block.timestamp + 601);
        try perm.award(fileId, index) {} catch {
            return;
        }
        IPermanentStorage.Slot memory s = perm.slot(fileId, index);
        IStorageMarket.CreateDataSet memory t = IStorageMarket.CreateDataSet({
            client: address(perm),
            provider: s.provider,
            pricePerTiBMonth: s.price,
            collateralPerTiB: 100e6,
            noticePeriods: 2,
            nonce: 0,
            deadline: s.deadline
        });
        // The nonce is the contract's counter: try the recent ones.
        uint64 id;
        for (uint64 nonce = 1; nonce <= 64 && id == 0; ++nonce) {
            t.nonce = nonce;
            vm.prank(s.provider);
            try market.createDataSet(t) returns (uint64 created) {
                id = created;
            } catch {} // solhint-disable-line no-empty-blocks
        }
        if (id == 0) return;
        try perm.place(fileId, index, roots[index], proofs[index], id) {} catch {
            return;
        }
        market.applyState(
            IStorageMarket.DataSetState({ dataSetId: id, version: 1, root: roots[index], span: SPAN })
        );
        market.prove(id);
        try perm.confirm(fileId, index) {} catch {} // solhint-disable-line no-empty-blocks
    }

    function _lose(uint256 fileId, uint32 index, uint256 r) internal {
        IPermanentStorage.Slot memory s = perm.slot(fileId, index);
        if (s.dataSetId != 0) {
            uint256 compensation = bound(r, 0, 10e6);
            token.mint(address(market), compensation);
            market.fail(s.dataSetId, compensation);
        } else {
            vm.warp(block.timestamp + 2 days);
        }
        try perm.reportLost(fileId, index) {} catch {} // solhint-disable-line no-empty-blocks
    }

    function _renew(uint256 fileId, uint32 index, uint256 r) internal {
        IPermanentStorage.Slot memory s = perm.slot(fileId, index);
        if (s.dataSetId == 0) return;
        market.consume(s.dataSetId, bound(r, 0, 1e9));
        try perm.renew(fileId, index) {} catch {} // solhint-disable-line no-empty-blocks
    }

    function _withdrawAll() internal {
        for (uint256 i = 0; i < PROVIDERS; ++i) {
            if (perm.owed(_provider(i)) == 0) continue;
            vm.prank(_provider(i));
            perm.withdrawOwed();
        }
        if (perm.owed(UPLOADER) != 0) {
            vm.prank(UPLOADER);
            perm.withdrawOwed();
        }
    }

    function _provider(uint256 i) internal pure returns (address) {
        return address(uint160(0xB0B0 + i));
    }

    function _pair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }
}
