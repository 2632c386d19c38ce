// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { IStorageMarket } from "../../interfaces/IStorageMarket.sol";

/// @title MarketWallet
/// @notice How a contract client of the market (a repair mandate, permanent storage) moves its money: it holds
///         tokens and a market balance, and funds data sets or pays people from either, whichever holds enough.
///         Internal functions: inlined into each contract, no call and no size cost.
library MarketWallet {
    using SafeERC20 for IERC20;

    /// @notice Fund data set `dataSetId`'s escrow with `amount` from the caller's market balance, depositing held
    ///         tokens first when the balance is short.
    /// @param market The storage market.
    /// @param token The market's payment token.
    /// @param dataSetId The data set.
    /// @param amount Tokens.
    function fundDataSet(IStorageMarket market, IERC20 token, uint64 dataSetId, uint256 amount) internal {
        uint256 ledger = market.balanceOf(address(this));
        if (ledger < amount) {
            uint256 missing = amount - ledger;
            token.forceApprove(address(market), missing);
            market.deposit(address(this), missing);
        }
        market.topUp(dataSetId, amount);
    }

    /// @notice Pay `amount` to `to` from held tokens, withdrawing the market balance first when they are short.
    /// @param market The storage market.
    /// @param token The market's payment token.
    /// @param to The recipient.
    /// @param amount Tokens.
    function payOut(IStorageMarket market, IERC20 token, address to, uint256 amount) internal {
        uint256 held = token.balanceOf(address(this));
        if (held < amount) market.withdraw(amount - held);
        token.safeTransfer(to, amount);
    }
}
