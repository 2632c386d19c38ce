// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test token that, when armed, calls `target` with `payload` in the middle of every transfer and
///         records whether that reentrant call succeeded.
contract ReentrantToken is ERC20 {
    address public hookTarget;
    bytes public payload;
    bool public armed;
    bool public lastReentrySucceeded;
    bytes public lastReentryReturn;

    constructor() ERC20("Reentrant Token", "RE") {}

    /// @notice Mint for tests.
    /// @param to Recipient.
    /// @param amount Amount.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arm the hook.
    /// @param target_ Contract to call back.
    /// @param payload_ Calldata of the reentrant call.
    function arm(address target_, bytes calldata payload_) external {
        hookTarget = target_;
        payload = payload_;
        armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed && from != address(0) && to != address(0)) {
            armed = false;
            (bool ok, bytes memory ret) = hookTarget.call(payload);
            lastReentrySucceeded = ok;
            lastReentryReturn = ret;
        }
    }
}
