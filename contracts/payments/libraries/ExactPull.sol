// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title ExactPull
/// @notice The one way tokens enter a Strata contract: `transferFrom` through SafeERC20, measured by the
///         receiver's balance. A token that delivers less than asked (fee-on-transfer, rebasing down) is
///         rejected, so every internal balance is backed one for one.
library ExactPull {
    using SafeERC20 for IERC20;

    /// @notice The token delivered fewer tokens than asked (fee-on-transfer tokens are not supported).
    /// @param expected Amount asked.
    /// @param received Amount the receiver's balance grew by.
    error PaymentTokenShortfall(uint256 expected, uint256 received);

    /// @notice Pull exactly `amount` of `token` from `from` (its allowance) to this contract.
    /// @dev Reverts if the transfer fails or delivers any other amount.
    /// @param token The token.
    /// @param from The payer.
    /// @param amount Amount to receive.
    function pull(IERC20 token, address from, uint256 amount) internal {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(from, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert PaymentTokenShortfall(amount, received);
    }

    /// @notice Like `pull`, but returns false instead of reverting when the transfer itself fails (no allowance
    ///         or balance). A token that delivers less than asked still reverts: that is a broken token, not an
    ///         unfunded payer.
    /// @param token The token.
    /// @param from The payer.
    /// @param amount Amount to receive.
    /// @return pulled True when exactly `amount` arrived.
    function tryPull(IERC20 token, address from, uint256 amount) internal returns (bool pulled) {
        uint256 before = token.balanceOf(address(this));
        if (!token.trySafeTransferFrom(from, address(this), amount)) return false;
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert PaymentTokenShortfall(amount, received);
        return true;
    }
}
