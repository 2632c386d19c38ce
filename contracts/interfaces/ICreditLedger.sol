// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ICreditLedger
/// @notice Internal token balances of a market. Every payout (provider earnings, client refunds,
///         compensation, bounties, treasury share) is credited here and pulled by its owner with `withdraw`;
///         clients may also deposit here to fund deals without a token transfer per deal.
interface ICreditLedger {
    /// @notice Emitted when tokens are deposited to an account.
    /// @param account The account credited.
    /// @param from Who paid the tokens.
    /// @param amount Amount credited.
    event Deposited(address indexed account, address indexed from, uint256 amount);
    /// @notice Emitted when an account withdraws.
    /// @param account The account debited.
    /// @param to Recipient of the tokens.
    /// @param amount Amount paid out.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);

    /// @notice An amount of zero was given.
    error LedgerZeroAmount();
    /// @notice The account's balance is too small.
    /// @param account The account.
    /// @param balance Its balance.
    /// @param needed Amount needed.
    error LedgerInsufficientBalance(address account, uint256 balance, uint256 needed);

    /// @notice Deposit `amount` tokens from the caller to `account`'s balance.
    /// @param account Account credited.
    /// @param amount Amount; the market must receive exactly this much (else `ExactPull.PaymentTokenShortfall`).
    function deposit(address account, uint256 amount) external;

    /// @notice Withdraw `amount` from the caller's balance to its payout address (a provider's payee, else
    ///         the caller). Never blocked by a pause.
    /// @param amount Amount to withdraw.
    function withdraw(uint256 amount) external;

    /// @notice The payment token of this market.
    /// @return The token.
    function paymentToken() external view returns (address);

    /// @notice Withdrawable balance of `account`.
    /// @param account The account.
    /// @return The balance.
    function balanceOf(address account) external view returns (uint256);
}
