// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ComputeInvariantChecks } from "./ComputeInvariantChecks.sol";

/// @notice The compute handler really exercises the market: sequences shaped like the invariant campaign's runs
///         (uniform choice among both handlers' actions, random arguments, each from the fresh post-setUp state)
///         post, bid, reject, withdraw, accept, cancel, expire, heartbeat, report, settle, top up, give notice
///         and close leases in every way, and the invariants of both markets hold at the end of each sequence.
/// @dev Kept short (see HandlerCoverage.t.sol: a long failing sequence is re-executed for its trace).
contract ComputeHandlerCoverageTest is ComputeInvariantChecks {
    uint256 internal constant SEQUENCES = 8;
    uint256 internal constant DEPTH = 64;

    function setUp() public {
        _deployHandlers();
    }

    /// @notice Summed over the sequences, every compute action path did something.
    function test_computeHandlerExercisesEveryPath() public {
        string[17] memory paths = [
            "stake",
            "warp",
            "postOrder",
            "bid",
            "withdrawBid",
            "rejectBid",
            "accept",
            "cancelOrder",
            "expireOrder",
            "heartbeat",
            "reportMissed",
            "settle",
            "topUp",
            "giveNotice",
            "close",
            "withdraw",
            "openLease"
        ];
        uint256[17] memory totals;
        for (uint256 run = 0; run < SEQUENCES; ++run) {
            uint256 snapshot = vm.snapshotState();
            for (uint256 i = 0; i < DEPTH; ++i) _act(rand(run, i));
            this.checkAllWithCompute();
            for (uint256 k = 0; k < paths.length; ++k) totals[k] += computeHandler.calls(paths[k]);
            vm.revertToState(snapshot);
        }
        for (uint256 k = 0; k < paths.length; ++k) assertGe(totals[k], 1, paths[k]);
        assertGe(totals[6], SEQUENCES, "accepts in every sequence");
    }

    /// @dev One compute action (a quarter of the time a storage action), parameterised like the fuzzer does.
    function _act(uint256 r) internal {
        uint256 a = rand(r, 1);
        uint256 b = rand(r, 2);
        uint256 c = rand(r, 3);
        uint256 action = r % 26;
        if (action == 0) computeHandler.stake(a, b);
        else if (action == 1 || action == 16) computeHandler.warp(a);
        else if (action == 2 || action == 17) computeHandler.postOrder(a, b, c, rand(r, 4));
        else if (action == 3 || action == 18 || action == 23) computeHandler.bid(a, b, c, rand(r, 4));
        else if (action == 4) computeHandler.withdrawBid(a, b);
        else if (action == 5 || action == 22) computeHandler.rejectBid(a, b);
        else if (action == 6 || action == 19) computeHandler.accept(a, b);
        else if (action == 7) computeHandler.endOrder(a, b % 2 == 0);
        else if (action == 8 || action == 20 || action == 21) computeHandler.heartbeat(a);
        else if (action == 9 || action == 24) computeHandler.reportMissed(a, b);
        else if (action == 10) computeHandler.settle(a);
        else if (action == 11) computeHandler.topUp(a, b, c);
        else if (action == 12) computeHandler.giveNotice(a);
        else if (action == 13) computeHandler.close(a, b, c);
        else if (action == 14) computeHandler.withdraw(a);
        else if (action == 25) computeHandler.openLease(a, b, c, rand(r, 4));
        else if (b % 2 == 0) handler.publish(a, b, c, rand(r, 4));
        else handler.warp(a, b);
    }
}
