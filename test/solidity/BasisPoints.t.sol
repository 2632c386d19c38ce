// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { BasisPoints } from "../../contracts/payments/libraries/BasisPoints.sol";
import { SlashSplit } from "../../contracts/payments/libraries/SlashSplit.sol";
import { LeaseMath } from "../../contracts/compute/libraries/LeaseMath.sol";
import { TestBase } from "./utils/TestBase.sol";

/// @notice The shared money math (contracts/payments/libraries): basis-point shares round down by less than one
///         unit, and a slash split always adds up to the slashed amount, so rounding never loses or creates a
///         token. The compute market's penalty (LeaseMath.penalty) is the same split with no reporter share.
contract BasisPointsTest is TestBase {
    uint256 internal constant BPS = 10_000;

    // ------------------------------------------------------------------ BasisPoints.share

    /// @notice `share` is the exact quotient rounded down: share * BPS <= amount * bps < (share + 1) * BPS.
    function test_fuzz_shareRoundsDownByLessThanOneUnit(uint256 amount, uint256 bps) public pure {
        amount = bound(amount, 0, type(uint128).max);
        bps = bound(bps, 0, BPS);
        uint256 s = BasisPoints.share(amount, bps);
        assertLe(s * BPS, amount * bps, "never above the exact value");
        assertTrue(amount * bps < (s + 1) * BPS, "less than one unit below the exact value");
        assertLe(s, amount, "a share of at most 100 % never exceeds the whole");
    }

    function test_shareRoundsDownByLessThanOneUnit() public pure {
        test_fuzz_shareRoundsDownByLessThanOneUnit(999, 3_333); // 332.97 -> 332
        test_fuzz_shareRoundsDownByLessThanOneUnit(1, 9_999); // 0.9999 -> 0
        test_fuzz_shareRoundsDownByLessThanOneUnit(type(uint128).max, BPS);
    }

    /// @notice Full precision: no intermediate overflow even at the top of uint256.
    function test_fuzz_shareHasNoIntermediateOverflow(uint256 amount, uint256 bps) public pure {
        bps = bound(bps, 0, BPS);
        uint256 s = BasisPoints.share(amount, bps);
        assertLe(s, amount, "share <= amount");
        if (bps == BPS) assertEq(s, amount, "10_000 bps is the whole");
        if (bps == 0) assertEq(s, 0, "0 bps is nothing");
    }

    function test_shareHasNoIntermediateOverflow() public pure {
        test_fuzz_shareHasNoIntermediateOverflow(type(uint256).max, 5_000);
        test_fuzz_shareHasNoIntermediateOverflow(type(uint256).max, BPS);
    }

    /// @notice A larger rate never gives a smaller share.
    function test_fuzz_shareIsMonotoneInBps(uint256 amount, uint256 lo, uint256 hi) public pure {
        lo = bound(lo, 0, BPS);
        hi = bound(hi, lo, BPS);
        assertLe(BasisPoints.share(amount, lo), BasisPoints.share(amount, hi), "monotone in bps");
    }

    function test_shareIsMonotoneInBps() public pure {
        test_fuzz_shareIsMonotoneInBps(12_345, 1, 2);
    }

    /// @notice Two complementary shares lose at most one unit together, never create one.
    function test_fuzz_complementarySharesLoseAtMostOneUnit(uint256 amount, uint256 bps) public pure {
        bps = bound(bps, 0, BPS);
        uint256 sum = BasisPoints.share(amount, bps) + BasisPoints.share(amount, BPS - bps);
        assertLe(sum, amount, "never more than the whole");
        assertGe(sum + 1, amount, "at most one unit lost to rounding");
    }

    function test_complementarySharesLoseAtMostOneUnit() public pure {
        test_fuzz_complementarySharesLoseAtMostOneUnit(999, 3_333);
    }

    // ------------------------------------------------------------------ SlashSplit.split

    /// @notice The three parts add up to the slashed amount exactly; both shares are the rounded-down formula;
    ///         the harmed party gets every unit rounding takes from the others.
    function test_fuzz_splitLosesNothing(
        uint256 amount,
        uint256 treasuryBps,
        uint256 reporterBps
    ) public pure {
        treasuryBps = bound(treasuryBps, 0, BPS);
        reporterBps = bound(reporterBps, 0, BPS - treasuryBps);
        (uint256 toTreasury, uint256 toReporter, uint256 toHarmed) = SlashSplit.split(
            amount,
            treasuryBps,
            reporterBps
        );
        assertEq(toTreasury + toReporter + toHarmed, amount, "parts sum to the whole");
        assertEq(toTreasury, BasisPoints.share(amount, treasuryBps), "treasury share");
        assertEq(toReporter, BasisPoints.share(amount, reporterBps), "reporter share");
        uint256 harmedBps = BPS - treasuryBps - reporterBps;
        assertGe(toHarmed, BasisPoints.share(amount, harmedBps), "harmed party never below its exact share");
        assertLe(toHarmed - BasisPoints.share(amount, harmedBps), 2, "rounding hands it at most two units");
    }

    function test_splitLosesNothing() public pure {
        test_fuzz_splitLosesNothing(100e6, 1_000, 1_000); // 10 / 10 / 80
        test_fuzz_splitLosesNothing(999, 3_333, 3_333); // 332 / 332 / 335
        test_fuzz_splitLosesNothing(type(uint256).max, 5_000, 2_000);
        test_fuzz_splitLosesNothing(7, 0, 0);
        test_fuzz_splitLosesNothing(1, 5_000, 5_000);
    }

    // ------------------------------------------------------------------ both markets, one shape

    /// @notice A compute penalty is the storage split with no reporter: bps of the collateral, then split; the
    ///         penalty plus the collateral released is the whole collateral.
    function test_fuzz_leasePenaltyIsTheSharedSplit(
        uint256 collateral,
        uint256 bps,
        uint256 treasuryBps
    ) public pure {
        collateral = bound(collateral, 0, type(uint96).max);
        bps = bound(bps, 0, BPS);
        treasuryBps = bound(treasuryBps, 0, 5_000);
        (uint256 amount, uint256 toTreasury, uint256 toTenant) = LeaseMath.penalty(
            collateral,
            bps,
            treasuryBps
        );
        assertEq(amount, BasisPoints.share(collateral, bps), "penalty is bps of the collateral");
        (uint256 t, uint256 h) = SlashSplit.split(amount, treasuryBps);
        (uint256 t3, uint256 r3, uint256 h3) = SlashSplit.split(amount, treasuryBps, 0);
        assertEq(toTreasury, t, "treasury as in the shared split");
        assertEq(toTenant, h, "tenant is the harmed party");
        assertEq(t3, t, "the two-way split is the three-way split without a reporter (treasury)");
        assertEq(r3, 0, "no reporter share");
        assertEq(h3, h, "the two-way split is the three-way split without a reporter (harmed)");
        assertEq(toTreasury + toTenant, amount, "nothing lost");
    }

    function test_leasePenaltyIsTheSharedSplit() public pure {
        test_fuzz_leasePenaltyIsTheSharedSplit(50e6, 5_000, 1_000);
        test_fuzz_leasePenaltyIsTheSharedSplit(3, 10_000, 5_000);
    }
}
