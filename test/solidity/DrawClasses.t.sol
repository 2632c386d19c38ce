// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Math } from "@openzeppelin/contracts/utils/math/Math.sol";
import { DrawClasses } from "../../contracts/storage/libraries/DrawClasses.sol";
import { ProviderEpochs } from "../../contracts/storage/libraries/ProviderEpochs.sol";
import { TestBase } from "./utils/TestBase.sol";

/// @notice Draw classes (docs/SPEC.md §4.3): every span sits in the draw class of its size class whose capacity is
///         the smallest at or above it, fills more than 8/9 of it, and the update path's shortcut agrees with the
///         full computation.
contract DrawClassesTest is TestBase {
    uint256 internal constant MAX_SPAN = uint256(1) << 47;

    /// @notice Boundaries: span 1, the top and the bottom of a size class, and the largest span.
    function test_classOf_boundaries() public pure {
        assertEq(DrawClasses.classOf(1), 0, "span 1");
        assertEq(DrawClasses.capacity(0), 1, "class 0");
        assertEq(DrawClasses.classOf(1 << 34), (34 << 3) | 7, "2^34: last eighth");
        assertEq(DrawClasses.capacity((34 << 3) | 7), 1 << 34, "its capacity");
        assertEq(DrawClasses.classOf((1 << 33) + 1), 34 << 3, "2^33 + 1: first eighth");
        assertEq(DrawClasses.capacity(34 << 3), (1 << 33) + (1 << 30), "its capacity");
        assertEq(DrawClasses.classOf(MAX_SPAN), (47 << 3) | 7, "largest");
        test_fuzz_classOf_tightestCapacity(12345678901);
        test_fuzz_drawClassMove_agreesWithClassOf(1 << 20, (1 << 20) + 1);
    }

    /// @notice The draw class's size class is ceil(log2 span); its capacity is at or above the span, the capacity of
    ///         the span just below a class's first span is that span, and the span fills more than 8/9 of it.
    function test_fuzz_classOf_tightestCapacity(uint256 span) public pure {
        span = bound(span, 1, MAX_SPAN);
        uint256 k = DrawClasses.classOf(span);
        uint256 cap = DrawClasses.capacity(k);
        assertEq(k >> 3, Math.log2(span, Math.Rounding.Ceil), "size class");
        assertGe(cap, span, "capacity at or above the span");
        assertTrue(9 * span > 8 * cap, "more than 8/9 full");
        if (span > 1) {
            uint256 below = DrawClasses.classOf(span - 1);
            assertTrue(below == k || DrawClasses.capacity(below) == span - 1, "no capacity between");
            assertLe(below, k, "classes ascend with spans");
        }
    }

    /// @notice The update path's shortcut (no logarithm when both spans share their leading bits) says "same draw
    ///         class" exactly when the two spans are in one, and otherwise returns the two classes.
    function test_fuzz_drawClassMove_agreesWithClassOf(uint256 oldSpan, uint256 span) public pure {
        oldSpan = bound(oldSpan, 0, MAX_SPAN);
        span = bound(span, 0, MAX_SPAN);
        uint256 oldSizePlusOne = oldSpan == 0 ? 0 : Math.log2(oldSpan, Math.Rounding.Ceil) + 1;
        (uint256 oldPlusOne, uint256 newPlusOne) = ProviderEpochs.drawClassMove(
            oldSpan,
            oldSizePlusOne,
            span
        );
        uint256 oldK = oldSpan == 0 ? 0 : DrawClasses.classOf(oldSpan) + 1;
        uint256 newK = span == 0 ? 0 : DrawClasses.classOf(span) + 1;
        if (oldPlusOne == newPlusOne) {
            assertEq(oldK, newK, "same draw class");
        } else {
            assertTrue(oldK != newK, "the shortcut sees every same-class pair");
            assertEq(oldPlusOne, oldK, "old draw class");
            assertEq(newPlusOne, newK, "new draw class");
        }
    }

    /// @notice Nearby spans (the common update: a few pieces added) share a draw class unless a boundary lies between.
    function test_fuzz_drawClassMove_nearbySpans(uint256 oldSpan, uint256 added) public pure {
        oldSpan = bound(oldSpan, 1, MAX_SPAN - 1024);
        added = bound(added, 0, 1024);
        test_fuzz_drawClassMove_agreesWithClassOf(oldSpan, oldSpan + added);
    }

    /// @notice Spans that may or may not cross an eighth's boundary: a growth of up to a quarter of the span.
    function test_fuzz_drawClassMove_acrossBoundaries(uint256 oldSpan, uint256 added) public pure {
        oldSpan = bound(oldSpan, 1, MAX_SPAN / 2);
        added = bound(added, 0, oldSpan / 4 + 1);
        test_fuzz_drawClassMove_agreesWithClassOf(oldSpan, oldSpan + added);
        test_fuzz_drawClassMove_agreesWithClassOf(oldSpan + added, oldSpan);
    }

    /// @notice Every pair of spans up to 70 (the exact classes below 16 and the first eighths above).
    function test_drawClassMove_everySmallPair() public pure {
        for (uint256 a = 0; a <= 70; ++a) {
            for (uint256 b = 0; b <= 70; ++b) test_fuzz_drawClassMove_agreesWithClassOf(a, b);
        }
    }

    mapping(uint256 => uint256) internal _counts;

    /// @notice The packed counts' copy-on-write: a period reads the counts as they were before its own writes, also
    ///         when the size class was empty then while its previous word still holds counts of an older epoch.
    function test_move_frozenCountsFollowTheEpochRule() public {
        uint256 k = (30 << 3) | 2; // size class 30, third eighth
        DrawClasses.move(_counts, k, true, 5);
        DrawClasses.move(_counts, k, true, 5);
        assertEq(DrawClasses.frozen(_counts, 30, 5), 0, "epoch 5 froze an empty class");
        assertEq(DrawClasses.frozen(_counts, 30, 6), 2 << (2 * 27), "epoch 6 sees both");
        (uint256 before, bool emptied) = DrawClasses.move(_counts, k, false, 6);
        assertEq(before, 2, "count before");
        assertTrue(!emptied, "one left");
        DrawClasses.move(_counts, k, false, 6);
        assertEq(DrawClasses.frozen(_counts, 30, 6), 2 << (2 * 27), "epoch 6 still sees both");
        assertEq(DrawClasses.frozen(_counts, 30, 7), 0, "epoch 7 sees none");
        // The previous word now holds epoch 6's counts; a write in epoch 8 to the empty class must not expose them.
        (, bool wasEmpty) = DrawClasses.move(_counts, k + 1, true, 8);
        assertTrue(wasEmpty, "the class was empty");
        assertEq(DrawClasses.frozen(_counts, 30, 8), 0, "epoch 8 froze an empty class, not a stale word");
        assertEq(DrawClasses.frozen(_counts, 30, 9), 1 << (3 * 27), "epoch 9 sees the new one");
        // A second write in the same epoch keeps what the epoch froze.
        DrawClasses.move(_counts, k, true, 8);
        assertEq(DrawClasses.frozen(_counts, 30, 8), 0, "still empty for epoch 8");
        // And a write in a later epoch over a non-empty class copies it.
        DrawClasses.move(_counts, k, true, 9);
        assertEq(DrawClasses.frozen(_counts, 30, 9), (1 << (3 * 27)) | (1 << (2 * 27)), "epoch 9 froze two");
    }
}
