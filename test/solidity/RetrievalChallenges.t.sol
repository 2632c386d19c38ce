// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ChallengeId, IRetrievalChallenges } from "../../contracts/interfaces/IRetrievalChallenges.sol";
import { IStorageMarket } from "../../contracts/interfaces/IStorageMarket.sol";
import { RetrievalChallenges } from "../../contracts/storage/RetrievalChallenges.sol";
import { MarketFixture } from "./utils/MarketFixture.sol";
import { RandomPieceTrees } from "./utils/RandomPieceTrees.sol";

/// @notice Leaf-index and path-length rules of retrieval challenges (SPEC "Retrieval challenges"): a challenge
///         may name any leaf below ceil(size / 64) and no other; an answer must carry exactly
///         ceil(log2(leaves)) siblings, the true leaf and the path of the challenged position.
contract RetrievalChallengesTest is MarketFixture, RandomPieceTrees {
    uint256 internal constant PROVIDER_KEY = 0xB0B;
    uint256 internal constant CLIENT_KEY = 0xC11E;
    uint256 internal constant MAX_TREE_LEAVES = 64;
    uint128 internal constant BOND = 5_000_000;
    address internal constant TREASURY = address(0x7EA5);
    address internal constant CHALLENGER = address(0xC4A1);

    RetrievalChallenges internal rc;
    address internal provider;
    address internal client;
    uint64 internal lastId;

    function setUp() public {
        deploySuite(defaultParameters(), TREASURY, 86_400);
        provider = vm.addr(PROVIDER_KEY);
        client = vm.addr(CLIENT_KEY);
        registerProvider(provider);
        stakeFor(provider, 10_000 * USDC);
        depositFor(client, 1_000_000 * USDC);
        rc = new RetrievalChallenges(
            market,
            address(this),
            1_000 * USDC,
            IRetrievalChallenges.Parameters({ responseWindow: 600, bond: BOND })
        );
        market.grantRole(market.RETRIEVAL_ROLE(), address(rc));
        token.mint(CHALLENGER, 1_000 * USDC);
        vm.prank(CHALLENGER);
        token.approve(address(rc), type(uint256).max);
    }

    // ------------------------------------------------------------------ leaf index and path length

    /// @notice Over the whole range of piece sizes (without building the tree): leaf `leaves - 1` can be
    ///         challenged and `leaves` cannot; an answer whose path length differs from ceil(log2(leaves)) is
    ///         rejected with the expected length, and one with the right length but made-up data is invalid.
    function test_fuzz_leafIndexAndPathLengthBounds(uint256 size, uint64 beyond, uint256 length) public {
        size = bound(size, 1, 1 << 30);
        uint256 leaves = (size + LEAF - 1) / LEAF;
        uint256 depth = _ceilLog2(leaves);
        IStorageMarket.Deal memory d = _publish(keccak256(abi.encode(size)), size);

        uint64 outside = uint64(bound(beyond, leaves, type(uint64).max));
        _expectOpenRevert(
            d,
            outside,
            abi.encodeWithSelector(IRetrievalChallenges.RetrievalBadLeaf.selector, outside, leaves)
        );
        uint64 last = uint64(leaves - 1);
        vm.prank(CHALLENGER);
        ChallengeId id = rc.openChallenge(d, last);

        length = bound(length, 0, 40);
        bytes32[] memory path = new bytes32[](length);
        bytes32[2] memory leaf = [bytes32(uint256(1)), bytes32(uint256(2))];
        bytes memory expected =
            length == depth
                ? abi.encodeWithSelector(IRetrievalChallenges.RetrievalInvalidProof.selector, id, last)
                : abi.encodeWithSelector(
                    IRetrievalChallenges.RetrievalBadProofLength.selector,
                    length,
                    depth
                );
        vm.prank(provider);
        try rc.answerChallenge(id, d, leaf, path) {
            revert AssertTrue("a made-up answer must be rejected");
        } catch (bytes memory err) {
            assertEq(keccak256(err), keccak256(expected), "answer error");
        }
        assertEq(uint256(rc.challengeOf(id).status), uint256(IRetrievalChallenges.Status.Open), "still open");
    }

    function test_leafIndexAndPathLengthBounds() public {
        test_fuzz_leafIndexAndPathLengthBounds(1, 1, 0); // one leaf: depth 0, empty path is the right length
        test_fuzz_leafIndexAndPathLengthBounds(64, 1, 1);
        test_fuzz_leafIndexAndPathLengthBounds(65, 2, 1); // two leaves: depth 1
        test_fuzz_leafIndexAndPathLengthBounds(1 << 30, type(uint64).max, 24); // 2^24 leaves
        test_fuzz_leafIndexAndPathLengthBounds((1 << 30) - 63, 1 << 24, 23);
    }

    /// @notice On a real tree: the true leaf and path of the challenged position answer it and pay the bond to
    ///         the provider; a path one level short or long, or the opening of another leaf, does not.
    function test_fuzz_answerAcceptsExactlyTheChallengedOpening(
        uint256 seed,
        uint256 size,
        uint256 index
    ) public {
        Tree memory t = _buildTree(seed, bound(size, 1, MAX_TREE_LEAVES * LEAF));
        IStorageMarket.Deal memory d = _publish(_root(t), t.size);
        uint64 leafIndex = uint64(bound(index, 0, t.leaves - 1));
        uint256 providerBefore = rc.balanceOf(provider);
        uint256 heldBefore = token.balanceOf(address(rc));
        vm.prank(CHALLENGER);
        ChallengeId id = rc.openChallenge(d, leafIndex);
        _expectWrongAnswersRejected(t, id, d, leafIndex);

        (bytes32 lo, bytes32 hi) = _leaf(t, leafIndex);
        bytes32[] memory path = _path(t, leafIndex);
        assertEq(path.length, t.depth, "path length == depth");
        vm.prank(provider);
        rc.answerChallenge(id, d, [lo, hi], path);
        assertEq(
            uint256(rc.challengeOf(id).status),
            uint256(IRetrievalChallenges.Status.Answered),
            "answered"
        );
        assertEq(rc.balanceOf(provider), providerBefore + BOND, "bond to the provider");
        assertEq(token.balanceOf(address(rc)), heldBefore + BOND, "bond held until withdrawn");
    }

    /// @dev A path one level short or long, and the neighbour's valid opening, are all rejected.
    function _expectWrongAnswersRejected(
        Tree memory t,
        ChallengeId id,
        IStorageMarket.Deal memory d,
        uint64 leafIndex
    ) internal {
        (bytes32 lo, bytes32 hi) = _leaf(t, leafIndex);
        bytes32[] memory path = _path(t, leafIndex);
        bytes32[] memory long = new bytes32[](t.depth + 1);
        for (uint256 i = 0; i < t.depth; ++i) long[i] = path[i];
        _expectAnswerRevert(id, d, [lo, hi], long, _badLength(t.depth + 1, t.depth));
        if (t.depth == 0) return;
        bytes32[] memory short = new bytes32[](t.depth - 1);
        for (uint256 i = 0; i < short.length; ++i) short[i] = path[i];
        _expectAnswerRevert(id, d, [lo, hi], short, _badLength(t.depth - 1, t.depth));
        _expectNeighbourRejected(t, id, d, leafIndex);
    }

    /// @dev The neighbour's opening is a valid Merkle opening, but of another position.
    function _expectNeighbourRejected(
        Tree memory t,
        ChallengeId id,
        IStorageMarket.Deal memory d,
        uint64 leafIndex
    ) internal {
        uint256 other = leafIndex ^ 1;
        if (other >= t.leaves) return;
        bytes32[2] memory mine;
        bytes32[2] memory theirs;
        (mine[0], mine[1]) = _leaf(t, leafIndex);
        (theirs[0], theirs[1]) = _leaf(t, other);
        if (mine[0] == theirs[0] && mine[1] == theirs[1]) return;
        bytes memory expected = abi.encodeWithSelector(
            IRetrievalChallenges.RetrievalInvalidProof.selector,
            id,
            leafIndex
        );
        _expectAnswerRevert(id, d, theirs, _path(t, other), expected);
    }

    function _badLength(uint256 given, uint256 expected) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IRetrievalChallenges.RetrievalBadProofLength.selector, given, expected);
    }

    function test_answerAcceptsExactlyTheChallengedOpening() public {
        test_fuzz_answerAcceptsExactlyTheChallengedOpening(1, 64, 0); // single leaf, empty path
        test_fuzz_answerAcceptsExactlyTheChallengedOpening(2, 65, 1); // zero-padded second leaf
        test_fuzz_answerAcceptsExactlyTheChallengedOpening(3, 5 * 64 - 7, 4); // five leaves padded to eight
        test_fuzz_answerAcceptsExactlyTheChallengedOpening(4, 64 * 64, 63);
    }

    // ------------------------------------------------------------------ helpers

    function _publish(bytes32 root, uint256 size) internal returns (IStorageMarket.Deal memory d) {
        ++lastId;
        IStorageMarket.DealProposal memory prop = IStorageMarket.DealProposal({
            client: client,
            provider: provider,
            root: root,
            size: uint64(size),
            duration: uint64(24 * PERIOD),
            pricePerSecond: 10,
            collateral: uint128(100 * USDC),
            startDeadline: uint64(block.timestamp + 600),
            nonce: lastId
        });
        IStorageMarket.SignedProposal[] memory batch = new IStorageMarket.SignedProposal[](1);
        batch[0] = IStorageMarket.SignedProposal(prop, signProposal(CLIENT_KEY, prop));
        uint256 current = market.currentPeriod();
        vm.prank(provider);
        market.publishDeals(batch);
        d = dealFromProposal(lastId, prop, current);
    }

    function _expectOpenRevert(
        IStorageMarket.Deal memory d,
        uint64 leafIndex,
        bytes memory expected
    ) internal {
        vm.prank(CHALLENGER);
        try rc.openChallenge(d, leafIndex) {
            revert AssertTrue("open should revert");
        } catch (bytes memory err) {
            assertEq(keccak256(err), keccak256(expected), "open error");
        }
    }

    function _expectAnswerRevert(
        ChallengeId id,
        IStorageMarket.Deal memory d,
        bytes32[2] memory leaf,
        bytes32[] memory path,
        bytes memory expected
    ) internal {
        vm.prank(provider);
        try rc.answerChallenge(id, d, leaf, path) {
            revert AssertTrue("answer should revert");
        } catch (bytes memory err) {
            assertEq(keccak256(err), keccak256(expected), "answer error");
        }
    }
}
