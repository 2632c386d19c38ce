// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test token that burns a fee (1% unless changed) of every transfer, delivering less than asked.
contract FeeOnTransferToken is ERC20 {
    uint256 private _feePercent = 1;

    constructor() ERC20("Fee Token", "FEE") {}

    /// @notice Mint for tests.
    /// @param to Recipient.
    /// @param amount Amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Change the fee (0 makes the token plain, so a test can set up state before turning it on).
    /// @param percent Fee in percent of each transfer (at most 100).
    function setFeePercent(uint256 percent) external {
        _feePercent = percent;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = (value * _feePercent) / 100;
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}
