// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IRepairMandate } from "./IRepairMandate.sol";

/// @title IRepairMandateFactory
/// @notice Opens repair mandates (docs/SPEC.md §16.1): verifies the owner's EIP-712 signature (domain
///         `{name: "Strata RepairMandates", version: "1", chainId, verifyingContract: factory}`), deploys the
///         mandate's wallet (a minimal clone, address fixed by owner and nonce) and moves the budget into it.
interface IRepairMandateFactory {
    /// @notice A mandate was opened.
    /// @param mandate The mandate's wallet.
    /// @param owner The owner.
    /// @param piecesRoot The file's piece-list root.
    /// @param pieceCount Number of pieces.
    /// @param budget Tokens moved into it.
    event MandateOpened(
        address indexed mandate,
        address indexed owner,
        bytes32 indexed piecesRoot,
        uint32 pieceCount,
        uint256 budget
    );

    /// @notice The signature is past its deadline.
    error MandateFactoryExpired(uint64 deadline, uint256 nowTs);
    /// @notice The signature is not the owner's.
    error MandateFactoryBadSignature(address owner);
    /// @notice The nonce was already used.
    error MandateFactoryNonceUsed(address owner, uint64 nonce);
    /// @notice A term is outside its bounds.
    error MandateFactoryBadTerms(string name, uint256 value);

    /// @notice Open a mandate on `terms` signed by `terms.owner` (anyone may submit); pulls `terms.budget` from
    ///         the owner's allowance to this factory (exact amount).
    /// @param terms The terms.
    /// @param signature The owner's 65-byte ECDSA or ERC-1271 signature.
    /// @return mandate The mandate's wallet.
    function openMandate(
        IRepairMandate.Terms calldata terms,
        bytes calldata signature
    ) external returns (address mandate);

    /// @notice EIP-712 digest of `terms`.
    /// @param terms The terms.
    function mandateDigest(IRepairMandate.Terms calldata terms) external view returns (bytes32);
    /// @notice Address the mandate of `owner` and `nonce` has (or will have).
    /// @param owner The owner.
    /// @param nonce The nonce.
    function mandateAddress(address owner, uint64 nonce) external view returns (address);
    /// @notice The mandate implementation the clones run.
    function implementation() external view returns (address);
    /// @notice Whether `owner`'s `nonce` is used.
    /// @param owner The owner.
    /// @param nonce The nonce.
    function nonceUsed(address owner, uint64 nonce) external view returns (bool);
}
