// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { BasisPoints } from "./BasisPoints.sol";

/// @title SlashSplit
/// @notice How every slashed amount is shared out in both markets: a treasury share, a reporter bounty where
///         someone reported the fault (storage), and the rest to the party the fault harmed (see docs/SPEC.md,
///         "Money").
/// @dev Shares are rounded down (`BasisPoints.share`) and the harmed party takes the remainder, so the parts
///      always add up to the slashed amount exactly: rounding never loses or creates a token.
library SlashSplit {
    /// @notice Split `amount` between the treasury and the harmed party (no reporter).
    /// @param amount The slashed amount.
    /// @param treasuryBps Treasury share in basis points (<= `BasisPoints.BPS`).
    /// @return toTreasury Treasury share, rounded down.
    /// @return toHarmed The remainder, for the harmed client or tenant.
    function split(
        uint256 amount,
        uint256 treasuryBps
    ) internal pure returns (uint256 toTreasury, uint256 toHarmed) {
        toTreasury = BasisPoints.share(amount, treasuryBps);
        // treasuryBps <= BPS and the share rounds down, so toTreasury <= amount (checked all the same).
        toHarmed = amount - toTreasury;
    }

    /// @notice Split `amount` into the treasury's share, the reporter's share and the harmed party's remainder.
    /// @param amount The slashed amount.
    /// @param treasuryBps Treasury share in basis points.
    /// @param reporterBps Reporter share in basis points (`treasuryBps + reporterBps <= BasisPoints.BPS`, a
    ///        parameter bound in the storage market).
    /// @return toTreasury Treasury share, rounded down.
    /// @return toReporter Reporter share, rounded down.
    /// @return toHarmed The remainder, for the harmed client.
    function split(
        uint256 amount,
        uint256 treasuryBps,
        uint256 reporterBps
    ) internal pure returns (uint256 toTreasury, uint256 toReporter, uint256 toHarmed) {
        toTreasury = BasisPoints.share(amount, treasuryBps);
        toReporter = BasisPoints.share(amount, reporterBps);
        // The bound on treasuryBps + reporterBps keeps the shares within amount (checked all the same).
        toHarmed = amount - toTreasury - toReporter;
    }
}
