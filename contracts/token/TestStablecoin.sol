// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Ownable } from "@openzeppelin/contracts/access/Ownable.sol";
import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import { ERC20Permit } from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title TestStablecoin
/// @notice A 6-decimal stablecoin with EIP-2612 permit for local chains and testnets. Not for production.
contract TestStablecoin is ERC20, ERC20Permit, Ownable {
    /// @param owner_ Account allowed to mint.
    constructor(
        address owner_
    ) ERC20("Strata Test USD", "tUSD") ERC20Permit("Strata Test USD") Ownable(owner_) {}

    /// @notice Mint `amount` to `to`. Owner only.
    /// @param to Recipient.
    /// @param amount Amount in base units (6 decimals).
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice The token uses 6 decimals, like USDC.
    /// @return 6.
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
