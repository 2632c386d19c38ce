// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @notice The cheatcodes these tests use (forge-std is not available; see TOOLCHAIN.md).
interface Vm {
    function warp(uint256 newTimestamp) external;
    function roll(uint256 newHeight) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function label(address account, string calldata newLabel) external;
    function assume(bool condition) external pure;
    function skip(bool skipTest) external;
    function snapshotState() external returns (uint256 snapshotId);
    function revertToState(uint256 snapshotId) external returns (bool success);
}

// Address of the cheatcode contract.
address constant VM_ADDRESS = address(uint160(uint256(keccak256("hevm cheat code"))));

/// @notice Cheatcodes, assertions and input bounding shared by every Solidity test.
abstract contract TestBase {
    /// @notice Two values that should be equal differ.
    error AssertEq(string what, uint256 actual, uint256 expected);
    /// @notice Two words that should be equal differ.
    error AssertEqBytes32(string what, bytes32 actual, bytes32 expected);
    /// @notice Two words that should differ are equal.
    error AssertNotEqBytes32(string what, bytes32 value);
    /// @notice A value is above its bound.
    error AssertLe(string what, uint256 value, uint256 bound);
    /// @notice A value is below its bound.
    error AssertGe(string what, uint256 value, uint256 bound);
    /// @notice A condition does not hold.
    error AssertTrue(string what);

    Vm internal constant vm = Vm(VM_ADDRESS);

    function assertEq(uint256 actual, uint256 expected, string memory what) internal pure {
        if (actual != expected) revert AssertEq(what, actual, expected);
    }

    function assertEq(bytes32 actual, bytes32 expected, string memory what) internal pure {
        if (actual != expected) revert AssertEqBytes32(what, actual, expected);
    }

    function assertNotEq(bytes32 actual, bytes32 unexpected, string memory what) internal pure {
        if (actual == unexpected) revert AssertNotEqBytes32(what, actual);
    }

    function assertLe(uint256 value, uint256 limit, string memory what) internal pure {
        if (value > limit) revert AssertLe(what, value, limit);
    }

    function assertGe(uint256 value, uint256 limit, string memory what) internal pure {
        if (value < limit) revert AssertGe(what, value, limit);
    }

    function assertTrue(bool condition, string memory what) internal pure {
        if (!condition) revert AssertTrue(what);
    }

    /// @dev Map `x` into `[min, max]` (inclusive), keeping small inputs unchanged where possible.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (max < min) revert AssertLe("bound: max < min", min, max);
        if (x >= min && x <= max) return x;
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + (x % (size + 1));
    }

    /// @dev Deterministic pseudo-random word number `i` of a stream seeded by `seed`.
    function rand(uint256 seed, uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, i)));
    }
}
