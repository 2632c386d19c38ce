// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IStorageMarket } from "../../contracts/interfaces/IStorageMarket.sol";
import { ProvingLib } from "../../contracts/storage/libraries/ProvingLib.sol";
import { MarketFixture } from "./utils/MarketFixture.sol";
import { MerkleSha256Harness } from "./utils/MerkleSha256Harness.sol";

/// @notice Challenge derivation (SPEC §7.3): word = uint256(keccak256(abi.encode(seed, provider, period, i))),
///         position = word % challengeable, wrapped by % activeDeals when that position has been vacated,
///         leaf = (word >> 128) % ceil(size / 64) — in range for any input, and exactly what
///         StorageMarket.challenges() returns for a provider with deals.
contract ChallengeDerivationTest is MarketFixture {
    uint256 internal constant CLIENT_KEY = 0xC11E;
    uint256 internal constant MAX_DEALS = 12;

    MerkleSha256Harness internal merkle;
    address internal client;
    mapping(uint64 id => IStorageMarket.Deal) internal _deals;

    function setUp() public {
        deploySuite(defaultParameters(), address(0x7EA5), 86_400);
        merkle = new MerkleSha256Harness();
        client = vm.addr(CLIENT_KEY);
        depositFor(client, 1_000_000 * USDC);
    }

    /// @notice The selected position and leaf are always in range (for any seed, provider, period, index, list
    ///         lengths and piece size); while no deal was removed since the seed, deals published after it
    ///         (positions >= challengeable) are never drawn; a one-leaf piece is always challenged at leaf 0.
    function test_fuzz_selectionStaysInRange(
        bytes32 seed,
        address provider,
        uint32 period,
        uint256 i,
        uint256 activeDeals,
        uint256 challengeable,
        uint64 size
    ) public view {
        activeDeals = bound(activeDeals, 1, type(uint32).max);
        challengeable = bound(challengeable, 0, type(uint32).max);
        size = uint64(bound(size, 1, type(uint64).max));
        uint256 word = challengeWord(seed, provider, period, i);
        uint256 position = ProvingLib.challengedPosition(word, challengeable, activeDeals);
        assertEq(position, _position(word, challengeable, activeDeals), "documented formula");
        assertLe(position, activeDeals - 1, "position in range");
        if (challengeable != 0 && challengeable <= activeDeals) {
            assertLe(position, challengeable - 1, "deals published after the seed are not drawn");
        }
        uint256 leaves = merkle.leafCount(size);
        assertGe(leaves, 1, "a non-empty piece has a leaf");
        uint256 leaf = (word >> 128) % leaves;
        assertLe(leaf, leaves - 1, "leaf in range");
        if (size <= 64) assertEq(leaf, 0, "one-leaf piece");
        // The documented derivation is the same as hashing the packed 32-byte words.
        assertEq(
            word,
            uint256(keccak256(abi.encodePacked(seed, uint256(uint160(provider)), uint256(period), i))),
            "word"
        );
    }

    function test_selectionStaysInRange() public view {
        test_fuzz_selectionStaysInRange(keccak256("seed"), address(0xBEEF), 7, 0, 1, 1, 64);
        test_fuzz_selectionStaysInRange(bytes32(0), address(0), 0, 15, type(uint32).max, 0, type(uint64).max);
        test_fuzz_selectionStaysInRange(keccak256("s"), address(1), type(uint32).max, 3, 5, 9, 65);
        test_fuzz_selectionStaysInRange(keccak256("t"), address(2), 12, 1, 9, 5, 4_096);
    }

    /// @notice For a provider with 1..12 deals of random sizes, challenges() returns exactly challengeCount
    ///         words from the formula, each paired with the deal at its position; before the seed block is
    ///         mined it returns nothing; deals published after the seed was fixed do not change the challenges;
    ///         after a deal is removed, vacated positions wrap onto the current list.
    function test_fuzz_marketChallengesMatchFormula(
        uint256 providerKey,
        uint256 dealCount,
        uint256 extraDeals,
        uint256 challengeCount,
        uint256 seed,
        bool terminateOne
    ) public {
        providerKey = bound(providerKey, 1, 1e18);
        dealCount = bound(dealCount, 1, MAX_DEALS);
        extraDeals = bound(extraDeals, 0, 4);
        challengeCount = bound(challengeCount, 1, 16);
        address provider = vm.addr(providerKey);
        vm.assume(provider != client);
        IStorageMarket.Parameters memory p = defaultParameters();
        p.challengeCount = uint16(challengeCount);
        market.setParameters(p);
        registerProvider(provider);
        stakeFor(provider, 10_000 * USDC);
        vm.warp(block.timestamp + (seed % PERIOD));

        _publish(provider, dealCount, 1, seed);
        IStorageMarket.ProviderProofState memory st = market.proofState(provider);
        assertEq(st.activeDeals, dealCount, "activeDeals");
        assertEq(st.challengeable, dealCount, "challengeable == list length when the seed was scheduled");
        (uint64[] memory ids, uint256[] memory words) = market.challenges(provider);
        assertEq(ids.length, 0, "no challenges before the seed block is mined");
        assertEq(words.length, 0, "no words before the seed block is mined");

        vm.roll(uint256(st.seedBlock) + 1 + (seed % 200));
        bytes32 blockSeed = blockhash(st.seedBlock);
        assertNotEq(blockSeed, bytes32(0), "seed block hash readable");
        assertEq(market.challengeSeed(provider), blockSeed, "challengeSeed");
        (ids, words) = _checkChallenges(provider, blockSeed, challengeCount);

        if (extraDeals > 0) {
            // Publishing once the seed is known must not re-draw this period's challenges.
            _publish(provider, extraDeals, dealCount + 1, seed ^ 1);
            (uint64[] memory ids2, uint256[] memory words2) = _checkChallenges(
                provider,
                blockSeed,
                challengeCount
            );
            for (uint256 i = 0; i < challengeCount; ++i) {
                assertEq(ids2[i], ids[i], "same deal after publishing");
                assertEq(words2[i], words[i], "same word after publishing");
            }
            assertEq(market.proofState(provider).challengeable, dealCount, "challengeable unchanged");
        }
        if (terminateOne && dealCount + extraDeals > 1) {
            vm.prank(client);
            market.terminateDeal(_deals[uint64(1 + (seed % dealCount))]);
            _checkChallenges(provider, blockSeed, challengeCount);
        }
    }

    function test_marketChallengesMatchFormula() public {
        test_fuzz_marketChallengesMatchFormula(0xA11CE, 5, 2, 4, 77, true);
    }

    function test_marketChallengesMatchFormulaOneDeal() public {
        test_fuzz_marketChallengesMatchFormula(0xB0B, 1, 0, 16, 3, false);
    }

    function test_marketChallengesWrapAfterRemoval() public {
        test_fuzz_marketChallengesMatchFormula(0xCAFE, 12, 0, 16, 11, true);
    }

    /// @dev challenges() must equal the formula over the current list and proving state.
    function _checkChallenges(
        address provider,
        bytes32 blockSeed,
        uint256 count
    ) internal view returns (uint64[] memory ids, uint256[] memory words) {
        IStorageMarket.ProviderProofState memory st = market.proofState(provider);
        (ids, words) = market.challenges(provider);
        assertEq(ids.length, count, "one deal per challenge");
        assertEq(words.length, count, "one word per challenge");
        for (uint256 i = 0; i < count; ++i) {
            uint256 word = challengeWord(blockSeed, provider, st.nextPeriod, i);
            assertEq(words[i], word, "challenge word");
            uint256 position = _position(word, st.challengeable, st.activeDeals);
            assertEq(ids[i], market.activeDealAt(provider, position), "challenged deal");
            (uint160 termsHash, , , , uint24 index) = market.dealState(ids[i]);
            assertTrue(termsHash != 0, "challenged deal is live");
            assertEq(index, position, "deal index matches its position");
            uint256 leaves = merkle.leafCount(_deals[ids[i]].size);
            assertLe((word >> 128) % leaves, leaves - 1, "leaf in range");
        }
    }

    /// @dev The documented position rule, written independently of ProvingLib.
    function _position(
        uint256 word,
        uint256 challengeable,
        uint256 activeDeals
    ) internal pure returns (uint256) {
        uint256 position = word % (challengeable == 0 ? activeDeals : challengeable);
        return position < activeDeals ? position : position % activeDeals;
    }

    function _publish(address provider, uint256 n, uint256 firstId, uint256 seed) internal {
        IStorageMarket.SignedProposal[] memory batch = new IStorageMarket.SignedProposal[](n);
        uint256 current = market.currentPeriod();
        for (uint256 k = 0; k < n; ++k) {
            uint256 r = rand(seed, k);
            IStorageMarket.DealProposal memory prop = IStorageMarket.DealProposal({
                client: client,
                provider: provider,
                root: bytes32(r),
                size: uint64(1 + ((r >> 64) % (1 << 20))),
                duration: uint64(PERIOD * (1 + ((r >> 128) % 24))),
                pricePerSecond: uint128(1 + ((r >> 160) % 100)),
                collateral: uint128((r >> 192) % (100 * USDC)),
                startDeadline: uint64(block.timestamp + 600),
                nonce: uint64(firstId + k)
            });
            batch[k] = IStorageMarket.SignedProposal(prop, signProposal(CLIENT_KEY, prop));
            // Ids are assigned in order: this test is the market's only publisher.
            _deals[uint64(firstId + k)] = dealFromProposal(uint64(firstId + k), prop, current);
        }
        vm.prank(provider);
        assertEq(market.publishDeals(batch), n, "all published");
    }
}
