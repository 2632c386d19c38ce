// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { BasisPoints } from "./BasisPoints.sol";

/// @title SlashSplit
/// @notice How every slashed amount is shared out in both markets: a treasury share, an optional reporter
///         bounty, and the rest to the party the fault harmed (see docs/SPEC.md, "Money").
library SlashSplit {
    /// @notice Split `amount` into the treasury's share, the reporter's share and the harmed party's remainder.
    /// @dev Both shares are rounded down (`BasisPoints.share`) and the harmed party takes the remainder, so the three
    ///      always add up to `amount` exactly: nothing is lost or created by rounding. Requires
    ///      `treasuryBps + reporterBps <= BasisPoints.BPS` (a parameter bound in both markets); a zero reporter
    ///      share costs no division.
    /// @param amount The slashed amount.
    /// @param treasuryBps Treasury share in basis points.
    /// @param reporterBps Reporter share in basis points (0 when nobody reported).
    /// @return toTreasury Treasury share.
    /// @return toReporter Reporter share.
    /// @return toHarmed The remainder, for the harmed client or tenant.
    function split(
        uint256 amount,
        uint256 treasuryBps,
        uint256 reporterBps
    ) internal pure returns (uint256 toTreasury, uint256 toReporter, uint256 toHarmed) {
        toTreasury = BasisPoints.share(amount, treasuryBps);
        if (reporterBps != 0) toReporter = BasisPoints.share(amount, reporterBps);
        // treasuryBps + reporterBps <= BPS and both shares round down, so they never exceed amount (checked
        // arithmetic still guards a caller that breaks the bound).
        toHarmed = amount - toTreasury - toReporter;
    }
}
