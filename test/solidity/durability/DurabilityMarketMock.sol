// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC1271 } from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";

/// @notice The part of the storage market a client contract uses, with the market's token flows (ledger balances,
///         escrow, refunds and compensation at ending) and ERC-1271 checks, but proofs replaced by `prove`.
contract DurabilityMarketMock {
    error MockBadSignature();
    error MockShort();

    IERC20 public immutable token;
    uint64 public dataSetCount;
    mapping(address account => uint256) public balanceOf;
    mapping(uint64 id => IStorageMarket.DataSetView) private _sets;
    mapping(address provider => bool) public isRegistered;

    constructor(IERC20 token_) {
        token = token_;
    }

    function paymentToken() external view returns (address) {
        return address(token);
    }

    function registry() external view returns (address) {
        return address(this);
    }

    function provingPeriod() external pure returns (uint256) {
        return 3600;
    }

    function parameters() external pure returns (IStorageMarket.Parameters memory p) {
        p.maxNoticePeriods = 720;
        p.maxDataSetSize = uint64(1) << 50;
        p.providerTerminationFeeBps = 2000;
    }

    function register(address provider) external {
        isRegistered[provider] = true;
    }

    function createDigest(IStorageMarket.CreateDataSet calldata t) public pure returns (bytes32) {
        return keccak256(abi.encode("create", t));
    }

    function stateDigest(IStorageMarket.DataSetState calldata s) public pure returns (bytes32) {
        return keccak256(abi.encode("state", s));
    }

    function createDataSet(IStorageMarket.CreateDataSet calldata t) external returns (uint64 id) {
        if (IERC1271(t.client).isValidSignature(createDigest(t), "") != IERC1271.isValidSignature.selector) {
            revert MockBadSignature();
        }
        id = ++dataSetCount;
        IStorageMarket.DataSetView storage d = _sets[id];
        d.client = t.client;
        d.provider = msg.sender;
        d.pricePerTiBMonth = t.pricePerTiBMonth;
        d.collateralPerTiB = t.collateralPerTiB;
        d.noticePeriods = t.noticePeriods;
        d.status = IStorageMarket.Status.Live;
    }

    function applyState(IStorageMarket.DataSetState calldata s) external {
        IStorageMarket.DataSetView storage d = _sets[s.dataSetId];
        if (IERC1271(d.client).isValidSignature(stateDigest(s), "") != IERC1271.isValidSignature.selector) {
            revert MockBadSignature();
        }
        d.version = s.version;
        d.root = s.root;
        d.span = s.span;
    }

    function prove(uint64 id) external {
        _sets[id].leafSeconds += 1;
    }

    /// @notice The provider is paid `amount` of the escrow.
    function consume(uint64 id, uint256 amount) external {
        IStorageMarket.DataSetView storage d = _sets[id];
        if (amount > d.escrow) amount = d.escrow;
        d.escrow -= amount;
        d.paid += amount;
        balanceOf[d.provider] += amount;
    }

    /// @notice End a data set for faults: refund the escrow and credit `compensation` (minted by the test) to the
    ///         client.
    function fail(uint64 id, uint256 compensation) external {
        IStorageMarket.DataSetView storage d = _sets[id];
        d.status = IStorageMarket.Status.Finalized;
        balanceOf[d.client] += d.escrow + compensation;
        d.escrow = 0;
    }

    function dataSet(uint64 id) external view returns (IStorageMarket.DataSetView memory) {
        return _sets[id];
    }

    function withdrawableEscrow(uint64 id) external view returns (uint256) {
        return _sets[id].escrow;
    }

    function settleDataSet(uint64) external pure returns (uint256) {
        return 0;
    }

    function terminateDataSet(uint64 id) external {
        if (msg.sender != _sets[id].client) revert MockBadSignature();
        _sets[id].status = IStorageMarket.Status.Ending;
    }

    function deposit(address account, uint256 amount) external {
        token.transferFrom(msg.sender, address(this), amount);
        balanceOf[account] += amount;
    }

    function topUp(uint64 id, uint256 amount) external {
        if (balanceOf[msg.sender] < amount) revert MockShort();
        balanceOf[msg.sender] -= amount;
        _sets[id].escrow += amount;
    }

    function withdraw(uint256 amount) external {
        balanceOf[msg.sender] -= amount;
        token.transfer(msg.sender, amount);
    }
}
