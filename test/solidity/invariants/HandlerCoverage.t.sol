// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MarketInvariantChecks } from "./MarketInvariantChecks.sol";

/// @notice The invariant handler really exercises the market. Sequences shaped like the invariant campaign's
///         runs (uniform choice among the handler's actions, random arguments, depth 32, each from the fresh
///         post-setUp state) publish, prove, declare, report, settle, extend and end deals in every way,
///         withdraw and unbond, and (in sequences that include them) open, answer, enforce and void
///         retrieval challenges and withdraw bonds; the invariants hold at the end of each sequence.
/// @dev Kept to 4 x 32 steps: when a Solidity test fails, the runner re-executes it to collect a stack trace,
///      and a much longer failing sequence can exhaust the machine's memory.
contract HandlerCoverageTest is MarketInvariantChecks {
    uint256 internal constant SEQUENCES = 4;
    uint256 internal constant DEPTH = 32;

    function setUp() public {
        _deployHandler();
    }

    /// @notice Summed over the sequences, every action path of the handler did something.
    function test_handlerExercisesEveryPath() public {
        string[19] memory paths = [
            "publish",
            "published",
            "skipped",
            "prove",
            "declare",
            "report",
            "settle",
            "settlePaid",
            "settleWithHint",
            "terminateByClient",
            "terminateByProvider",
            "finalize",
            "terminateFaulty",
            "extend",
            "withdraw",
            "requestUnbond",
            "withdrawUnbonded",
            "stake",
            "deposit"
        ];
        uint256[19] memory totals;
        for (uint256 run = 0; run < SEQUENCES; ++run) {
            uint256 snapshot = vm.snapshotState();
            for (uint256 i = 0; i < DEPTH; ++i) _act(rand(run, i));
            this.checkAll();
            for (uint256 k = 0; k < paths.length; ++k) totals[k] += handler.calls(paths[k]);
            vm.revertToState(snapshot);
        }
        for (uint256 k = 0; k < paths.length; ++k) assertGe(totals[k], 1, paths[k]);
        assertGe(totals[0], SEQUENCES * 2, "publishes in every sequence");
        assertGe(totals[3], SEQUENCES, "proves in every sequence");
    }

    /// @notice Summed over sequences that mix the retrieval actions in (more often than the campaign does), every
    ///         retrieval path did something: challenges opened, answered, enforced (deal failed) and voided
    ///         (deal ended first), and bonds withdrawn.
    function test_handlerExercisesEveryRetrievalPath() public {
        string[5] memory paths = [
            "openChallenge",
            "answerChallenge",
            "enforceChallenge",
            "voidChallenge",
            "withdrawBond"
        ];
        uint256[5] memory totals;
        for (uint256 run = 0; run < SEQUENCES; ++run) {
            uint256 snapshot = vm.snapshotState();
            for (uint256 i = 0; i < DEPTH; ++i) {
                // Half market actions (as in the campaign), half retrieval actions, so that short sequences
                // reach every retrieval path.
                uint256 r = rand(run + 1_000, i);
                if ((r >> 128) & 1 == 0) _act(r);
                else _actRetrieval(r);
            }
            this.checkAll();
            for (uint256 k = 0; k < paths.length; ++k) totals[k] += handler.calls(paths[k]);
            vm.revertToState(snapshot);
        }
        for (uint256 k = 0; k < paths.length; ++k) assertGe(totals[k], 1, paths[k]);
    }

    /// @dev One retrieval action (the four selectors the retrieval handler appends).
    function _actRetrieval(uint256 r) internal {
        uint256 a = rand(r, 1);
        uint256 b = rand(r, 2);
        uint256 action = r % 4;
        if (action == 0) handler.openChallenge(a, b);
        else if (action == 1) handler.answerChallenge(a);
        else if (action == 2) handler.enforceChallenge(a, b);
        else handler.withdrawBond(a, b);
    }

    /// @dev One action, chosen and parameterised like the invariant fuzzer does (publish, prove and warp have two selectors each).
    function _act(uint256 r) internal {
        uint256 a = rand(r, 1);
        uint256 b = rand(r, 2);
        uint256 action = r % 18;
        if (action == 0) handler.stake(a, b);
        else if (action == 1) handler.deposit(a, b);
        else if (action == 2 || action == 17) handler.warp(a, b);
        else if (action == 3 || action == 15) handler.publish(a, b, rand(r, 3), rand(r, 4));
        else if (action == 4 || action == 16) handler.prove(a, b);
        else if (action == 5) handler.declareFault(a, b);
        else if (action == 6) handler.reportMissed(a, b);
        else if (action == 7) handler.settle(a, b);
        else if (action == 8) handler.terminate(a, b % 2 == 0);
        else if (action == 9) handler.finalize(a);
        else if (action == 10) handler.terminateFaulty(a, b);
        else if (action == 11) handler.extend(a, b);
        else if (action == 12) handler.withdraw(a, b);
        else if (action == 13) handler.requestUnbond(a, b);
        else handler.withdrawUnbonded(a);
    }
}
