// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { BasisPoints } from "./BasisPoints.sol";

/// @title SlashSplit
/// @notice How a slashed amount is shared out: a treasury share, a reporter bounty, and the rest to the party the
///         fault harmed (see docs/SPEC.md, "Penalties and termination for faults"). The compute market's lease
///         penalty is the same rule without a reporter, written out in `LeaseMath.penalty` (one call level less:
///         87 gas per slashed close); test/solidity/BasisPoints.t.sol checks the two agree.
/// @dev Shares are rounded down (the `BasisPoints` formula) and the harmed party takes the remainder, so the parts
///      always add up to the slashed amount exactly: rounding never loses or creates a token.
library SlashSplit {
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
        toTreasury = Math.mulDiv(amount, treasuryBps, BasisPoints.BPS);
        toReporter = Math.mulDiv(amount, reporterBps, BasisPoints.BPS);
        // The bound on treasuryBps + reporterBps keeps the shares within amount (checked all the same).
        toHarmed = amount - toTreasury - toReporter;
    }
}
