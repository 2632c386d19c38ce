// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { Clones } from "@openzeppelin/contracts/proxy/Clones.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { EIP712 } from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import { SignatureChecker } from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import { IStorageMarket } from "../interfaces/IStorageMarket.sol";
import { ExactPull } from "../payments/libraries/ExactPull.sol";
import { IRepairMandate } from "./interfaces/IRepairMandate.sol";
import { IRepairMandateFactory } from "./interfaces/IRepairMandateFactory.sol";
import { RepairMandate } from "./RepairMandate.sol";

/// @title RepairMandateFactory
/// @notice Opens repair mandates on their owners' EIP-712 signatures.
contract RepairMandateFactory is IRepairMandateFactory, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using ExactPull for IERC20;

    /// @notice EIP-712 type hash of `Terms`.
    bytes32 public constant MANDATE_TYPEHASH = keccak256(
        "RepairMandate(address owner,bytes32 piecesRoot,uint32 pieceCount,uint128 priceCeiling,uint128 collateralFloor,uint32 noticePeriods,uint32 prepaidPeriods,uint128 repairReward,uint128 budget,address[] excluded,uint64 nonce,uint64 deadline)"
    );

    IStorageMarket private immutable _market;
    IERC20 private immutable _token;
    address private immutable _implementation;
    mapping(address owner => mapping(uint64 nonce => bool)) private _used;

    /// @param market_ The storage market the mandates act on.
    constructor(IStorageMarket market_) EIP712("Strata RepairMandates", "1") {
        _market = market_;
        _token = IERC20(market_.paymentToken());
        _implementation = address(new RepairMandate(market_));
    }

    /// @inheritdoc IRepairMandateFactory
    function openMandate(
        IRepairMandate.Terms calldata terms,
        bytes calldata signature
    ) external nonReentrant returns (address mandate) {
        if (block.timestamp > terms.deadline) revert MandateFactoryExpired(terms.deadline, block.timestamp);
        if (_used[terms.owner][terms.nonce]) revert MandateFactoryNonceUsed(terms.owner, terms.nonce);
        if (terms.excluded.length > 8) revert MandateFactoryBadTerms("excluded", terms.excluded.length);
        if (terms.pieceCount == 0) revert MandateFactoryBadTerms("pieceCount", 0);
        if (terms.priceCeiling == 0) revert MandateFactoryBadTerms("priceCeiling", 0);
        uint32 maxNotice = _market.parameters().maxNoticePeriods;
        if (terms.noticePeriods > maxNotice)
            revert MandateFactoryBadTerms("noticePeriods", terms.noticePeriods);
        if (
            terms.owner == address(0) ||
            !SignatureChecker.isValidSignatureNowCalldata(terms.owner, mandateDigest(terms), signature)
        ) {
            revert MandateFactoryBadSignature(terms.owner);
        }
        _used[terms.owner][terms.nonce] = true;
        mandate = Clones.cloneDeterministic(_implementation, _salt(terms.owner, terms.nonce));
        RepairMandate(mandate).initialize(terms);
        emit MandateOpened(mandate, terms.owner, terms.piecesRoot, terms.pieceCount, terms.budget);
        if (terms.budget != 0) {
            _token.pull(terms.owner, terms.budget);
            _token.safeTransfer(mandate, terms.budget);
        }
    }

    /// @inheritdoc IRepairMandateFactory
    function mandateDigest(IRepairMandate.Terms calldata terms) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            bytes.concat(
                abi.encode(
                    MANDATE_TYPEHASH,
                    terms.owner,
                    terms.piecesRoot,
                    terms.pieceCount,
                    terms.priceCeiling,
                    terms.collateralFloor,
                    terms.noticePeriods,
                    terms.prepaidPeriods,
                    terms.repairReward,
                    terms.budget
                ),
                abi.encode(keccak256(abi.encodePacked(terms.excluded)), terms.nonce, terms.deadline)
            )
        );
        return _hashTypedDataV4(structHash);
    }

    /// @inheritdoc IRepairMandateFactory
    function mandateAddress(address owner, uint64 nonce) external view returns (address) {
        return Clones.predictDeterministicAddress(_implementation, _salt(owner, nonce));
    }

    /// @inheritdoc IRepairMandateFactory
    function implementation() external view returns (address) {
        return _implementation;
    }

    /// @inheritdoc IRepairMandateFactory
    function nonceUsed(address owner, uint64 nonce) external view returns (bool) {
        return _used[owner][nonce];
    }

    function _salt(address owner, uint64 nonce) private pure returns (bytes32) {
        return keccak256(abi.encode(owner, nonce));
    }
}
