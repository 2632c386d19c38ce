// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { DealSlot } from "../../contracts/storage/libraries/DealSlot.sol";
import { TestBase } from "./utils/TestBase.sol";
import { DealSlotHarness } from "./utils/DealSlotHarness.sol";

/// @notice DealSlot packs a deal's state into one word without loss and its accessors read the right bits.
contract DealSlotTest is TestBase {
    DealSlotHarness internal slot;

    function setUp() public {
        slot = new DealSlotHarness();
    }

    /// @notice unpack(pack(s)) == s, and the accessors agree with the unpacked fields.
    function test_fuzz_packUnpackRoundTrip(
        uint160 termsHash,
        uint32 paidSeconds,
        uint8 declaredFaults,
        uint32 lastDeclaredPlusOne,
        uint24 index
    ) public view {
        DealSlot.State memory s = DealSlot.State(
            termsHash,
            paidSeconds,
            declaredFaults,
            lastDeclaredPlusOne,
            index
        );
        uint256 word = slot.pack(s);
        DealSlot.State memory u = slot.unpack(word);
        assertEq(u.termsHash, termsHash, "termsHash");
        assertEq(u.paidSeconds, paidSeconds, "paidSeconds");
        assertEq(u.declaredFaults, declaredFaults, "declaredFaults");
        assertEq(u.lastDeclaredPeriodPlusOne, lastDeclaredPlusOne, "lastDeclaredPeriodPlusOne");
        assertEq(u.index, index, "index");
        assertEq(slot.termsHash(word), termsHash, "termsHash()");
        assertEq(slot.index(word), index, "index()");
        // The documented layout: termsHash (160) | paidSeconds (32) | declaredFaults (8) | lastDeclared+1 (32) | index (24).
        assertEq(
            word,
            (uint256(termsHash) << 96) |
                (uint256(paidSeconds) << 64) |
                (uint256(declaredFaults) << 56) |
                (uint256(lastDeclaredPlusOne) << 24) |
                index,
            "layout"
        );
    }

    function test_packUnpackRoundTrip() public view {
        test_fuzz_packUnpackRoundTrip(
            type(uint160).max,
            type(uint32).max,
            type(uint8).max,
            type(uint32).max,
            0
        );
        test_fuzz_packUnpackRoundTrip(1, 0, 0, 0, type(uint24).max);
        test_fuzz_packUnpackRoundTrip(0xabcdef, 3_600, 2, 8, 17);
    }

    /// @notice The fields tile the whole word: pack(unpack(w)) == w for every word.
    function test_fuzz_unpackPackIsIdentity(uint256 word) public view {
        assertEq(slot.pack(slot.unpack(word)), word, "pack(unpack(w))");
    }

    function test_unpackPackIsIdentity() public view {
        test_fuzz_unpackPackIsIdentity(type(uint256).max);
        test_fuzz_unpackPackIsIdentity(0);
        test_fuzz_unpackPackIsIdentity(uint256(keccak256("word")));
    }

    /// @notice withIndex replaces the low 24 bits and nothing else.
    function test_fuzz_withIndexChangesOnlyTheIndex(uint256 word, uint256 newIndex) public view {
        newIndex = bound(newIndex, 0, type(uint24).max);
        uint256 updated = slot.withIndex(word, newIndex);
        assertEq(slot.index(updated), newIndex, "new index");
        assertEq(updated >> 24, word >> 24, "other fields unchanged");
        DealSlot.State memory a = slot.unpack(word);
        DealSlot.State memory b = slot.unpack(updated);
        assertEq(b.termsHash, a.termsHash, "termsHash");
        assertEq(b.paidSeconds, a.paidSeconds, "paidSeconds");
        assertEq(b.declaredFaults, a.declaredFaults, "declaredFaults");
        assertEq(b.lastDeclaredPeriodPlusOne, a.lastDeclaredPeriodPlusOne, "lastDeclared");
    }

    function test_withIndexChangesOnlyTheIndex() public view {
        test_fuzz_withIndexChangesOnlyTheIndex(type(uint256).max, 0);
        test_fuzz_withIndexChangesOnlyTheIndex(0, type(uint24).max);
        test_fuzz_withIndexChangesOnlyTheIndex(uint256(keccak256("w")), 12_345);
    }

    /// @notice withPaidSeconds is pack(unpack(word)) with only paidSeconds replaced, and paidSeconds reads it back.
    function test_fuzz_withPaidSecondsChangesOnlyThePaidSeconds(uint256 word, uint32 paid) public view {
        uint256 updated = slot.withPaidSeconds(word, paid);
        assertEq(slot.paidSeconds(updated), paid, "new paid seconds");
        assertEq(slot.paidSeconds(word), slot.unpack(word).paidSeconds, "paidSeconds reads the packed field");
        DealSlot.State memory s = slot.unpack(word);
        s.paidSeconds = paid;
        assertEq(updated, slot.pack(s), "same as unpack, set, pack");
    }

    function test_withPaidSecondsChangesOnlyThePaidSeconds() public view {
        test_fuzz_withPaidSecondsChangesOnlyThePaidSeconds(type(uint256).max, 0);
        test_fuzz_withPaidSecondsChangesOnlyThePaidSeconds(0, type(uint32).max);
        test_fuzz_withPaidSecondsChangesOnlyThePaidSeconds(uint256(keccak256("w")), 86_400);
    }

    /// @notice lastDeclared reports (false, 0) for a never-declared deal and (true, p) after declaring p.
    function test_fuzz_lastDeclared(uint256 word, uint32 period) public view {
        vm.assume(period < type(uint32).max);
        DealSlot.State memory s = slot.unpack(word);
        s.lastDeclaredPeriodPlusOne = 0;
        (bool declared, uint256 last) = slot.lastDeclared(slot.pack(s));
        assertTrue(!declared, "never declared");
        assertEq(last, 0, "no period");
        s.lastDeclaredPeriodPlusOne = period + 1;
        (declared, last) = slot.lastDeclared(slot.pack(s));
        assertTrue(declared, "declared");
        assertEq(last, period, "declared period");
    }

    function test_lastDeclared() public view {
        test_fuzz_lastDeclared(type(uint256).max, 0);
        test_fuzz_lastDeclared(0, type(uint32).max - 1);
        test_fuzz_lastDeclared(uint256(keccak256("w")), 42);
    }
}
