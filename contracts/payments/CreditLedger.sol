// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { ICreditLedger } from "../interfaces/ICreditLedger.sol";
import { ExactPull } from "./libraries/ExactPull.sol";

/// @title CreditLedger
/// @notice The one place where a market's tokens enter and leave: exact-amount pulls (`ExactPull`, fee-on-transfer
///         tokens rejected), funding from a ledger balance else a pull (`_charge`), internal credits, and
///         pull-based withdrawals. Used by the storage market, the compute market and the retrieval challenges.
abstract contract CreditLedger is ICreditLedger, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using ExactPull for IERC20;

    IERC20 internal immutable _token;
    mapping(address account => uint256) private _balances;

    /// @param token_ The payment token.
    constructor(IERC20 token_) {
        _token = token_;
    }

    /// @inheritdoc ICreditLedger
    function deposit(address account, uint256 amount) external nonReentrant {
        if (amount == 0) revert LedgerZeroAmount();
        _token.pull(msg.sender, amount);
        _credit(account, amount);
        emit Deposited(account, msg.sender, amount);
    }

    /// @inheritdoc ICreditLedger
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert LedgerZeroAmount();
        _debit(msg.sender, amount);
        address to = _payoutAddress(msg.sender);
        emit Withdrawn(msg.sender, to, amount);
        if (_token.balanceOf(address(this)) < amount) _collectPending();
        _token.safeTransfer(to, amount);
    }

    /// @inheritdoc ICreditLedger
    function paymentToken() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc ICreditLedger
    function balanceOf(address account) public view virtual returns (uint256) {
        return _balances[account];
    }

    /// @dev Bring in tokens credited to accounts but held elsewhere (slashed stake owed by the registry).
    function _collectPending() internal virtual;

    /// @dev Take the credits a ledger keeps for `account` outside `_balances` (none by default; `balanceOf` of such a
    ///      ledger counts them); the caller adds them to the balance. Asked only when the balance alone falls short.
    function _collectCredit(address account) internal virtual returns (uint256 collected) {} // solhint-disable-line no-empty-blocks

    /// @dev `account`'s balance, with its credits kept elsewhere moved in when the balance alone is below `amount`.
    function _balanceFor(address account, uint256 amount) private returns (uint256 balance) {
        balance = _balances[account];
        if (balance < amount) {
            uint256 collected = _collectCredit(account);
            if (collected != 0) {
                balance += collected;
                _balances[account] = balance;
            }
        }
    }

    /// @dev Where `account`'s withdrawals go.
    function _payoutAddress(address account) internal view virtual returns (address);

    function _credit(address account, uint256 amount) internal {
        _balances[account] += amount;
    }

    function _debit(address account, uint256 amount) internal {
        uint256 balance = _balanceFor(account, amount);
        if (balance < amount) revert LedgerInsufficientBalance(account, balance, amount);
        // balance >= amount was checked above.
        unchecked {
            _balances[account] = balance - amount;
        }
    }

    /// @dev Take `amount` from `payer`'s ledger balance if it covers it, else pull exactly `amount` from its
    ///      allowance, else take it from its ledger balance with its credits kept elsewhere (`_collectCredit`; asked
    ///      last so that a pull costs no more than without them). Returns false, with nothing moved, when none pays;
    ///      the caller decides whether that reverts (with its own `...Unfunded` error) or skips. A token delivering
    ///      less than asked reverts.
    function _charge(address payer, uint256 amount) internal returns (bool funded) {
        uint256 balance = _balances[payer];
        if (balance < amount) {
            if (_token.tryPull(payer, amount)) return true;
            balance = _balanceFor(payer, amount);
            if (balance < amount) return false;
        }
        // balance >= amount here.
        unchecked {
            _balances[payer] = balance - amount;
        }
        return true;
    }
}
