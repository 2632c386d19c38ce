// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { Governed } from "../governance/Governed.sol";
import { IProviderRegistry } from "../interfaces/IProviderRegistry.sol";
import { ExactPull } from "../payments/libraries/ExactPull.sol";

/// @title ProviderRegistry
/// @notice Provider profiles and stake. Markets (MARKET_ROLE) lock, unlock and slash collateral, and take stake into
///         bonds they hold themselves and return it; nothing else can move a provider's stake, and a pause never
///         blocks unbonding or withdrawal.
contract ProviderRegistry is IProviderRegistry, Governed, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using ExactPull for IERC20;

    /// @notice Role of the market contracts allowed to lock, unlock and slash collateral.
    bytes32 public constant MARKET_ROLE = keccak256("MARKET_ROLE");

    /// @notice Shortest unbonding delay governance may set.
    uint64 public constant MIN_UNBONDING_DELAY = 60;
    /// @notice Longest unbonding delay governance may set.
    uint64 public constant MAX_UNBONDING_DELAY = 90 days;
    /// @notice Longest accepted endpoint URL, in bytes.
    uint256 public constant MAX_ENDPOINT_LENGTH = 256;

    IERC20 private immutable _token;
    uint64 private _unbondingDelay;
    mapping(address provider => ProviderInfo) private _providers;
    mapping(address provider => StakeInfo) private _stakes;
    address[] private _providerList;
    mapping(address provider => bool) private _everRegistered;
    // Per market, one word: bit 255 says whether it holds MARKET_ROLE (mirrored by `_grantRole`/`_revokeRole`), the
    // bits below are the tokens held for it (stake it slashed, bonds it holds). A slash or a bond checks the role and
    // adds to the debt in one storage word.
    mapping(address market => uint256 word) private _marketWords;
    uint256 private constant _MARKET_BIT = 1 << 255;

    /// @param token_ The payment token providers stake.
    /// @param admin Holder of the admin, parameter and pauser roles (the timelock in deployment).
    /// @param unbondingDelay_ Initial unbonding delay in seconds.
    constructor(IERC20 token_, address admin, uint64 unbondingDelay_) Governed(admin) {
        _token = token_;
        _setUnbondingDelay(unbondingDelay_);
    }

    // ------------------------------------------------------------------ profile

    /// @inheritdoc IProviderRegistry
    function register(
        address payee,
        string calldata endpoint,
        uint64 capacityBytes,
        uint128 pricePerTiBMonth
    ) external whenNotPaused {
        ProviderInfo storage info = _providers[msg.sender];
        if (info.registered) revert RegistryAlreadyRegistered(msg.sender);
        _checkProfile(payee, endpoint);
        info.payee = payee;
        info.registered = true;
        info.capacityBytes = capacityBytes;
        info.pricePerTiBMonth = pricePerTiBMonth;
        info.endpoint = endpoint;
        if (!_everRegistered[msg.sender]) {
            _everRegistered[msg.sender] = true;
            _providerList.push(msg.sender);
        }
        emit ProviderRegistered(msg.sender, payee, endpoint, capacityBytes, pricePerTiBMonth);
    }

    /// @inheritdoc IProviderRegistry
    function updateProvider(
        address payee,
        string calldata endpoint,
        uint64 capacityBytes,
        uint128 pricePerTiBMonth
    ) external {
        ProviderInfo storage info = _requireRegistered(msg.sender);
        _checkProfile(payee, endpoint);
        info.payee = payee;
        info.capacityBytes = capacityBytes;
        info.pricePerTiBMonth = pricePerTiBMonth;
        info.endpoint = endpoint;
        emit ProviderUpdated(msg.sender, payee, endpoint, capacityBytes, pricePerTiBMonth);
    }

    /// @inheritdoc IProviderRegistry
    function deregister() external {
        ProviderInfo storage info = _requireRegistered(msg.sender);
        StakeInfo storage s = _stakes[msg.sender];
        if (s.locked != 0) revert RegistryCollateralLocked(msg.sender, s.locked);
        info.registered = false;
        emit ProviderDeregistered(msg.sender);
        if (s.free != 0) _startUnbonding(msg.sender, s, s.free);
    }

    // ------------------------------------------------------------------ stake

    /// @inheritdoc IProviderRegistry
    function stake(address provider, uint256 amount) external nonReentrant {
        _requireRegistered(provider);
        if (amount == 0) revert RegistryZeroAmount();
        uint128 amount128 = _toUint128(amount);
        _token.pull(msg.sender, amount);
        _stakes[provider].free += amount128;
        emit StakeAdded(provider, msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert RegistryZeroAmount();
        StakeInfo storage s = _stakes[msg.sender];
        if (s.free < amount) revert RegistryInsufficientFreeStake(msg.sender, s.free, amount);
        _startUnbonding(msg.sender, s, _toUint128(amount));
    }

    /// @inheritdoc IProviderRegistry
    function cancelUnbond(uint256 amount) external {
        if (amount == 0) revert RegistryZeroAmount();
        _requireRegistered(msg.sender);
        StakeInfo storage s = _stakes[msg.sender];
        if (s.unbonding < amount) revert RegistryInsufficientUnbonding(msg.sender, s.unbonding, amount);
        uint128 amount128 = _toUint128(amount);
        s.unbonding -= amount128;
        s.free += amount128;
        emit UnbondingCancelled(msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function withdrawUnbonded() external nonReentrant returns (uint256 amount) {
        StakeInfo storage s = _stakes[msg.sender];
        amount = s.unbonding;
        if (amount == 0) revert RegistryZeroAmount();
        if (block.timestamp < s.unbondingReleaseAt)
            revert RegistryStillUnbonding(s.unbondingReleaseAt, block.timestamp);
        s.unbonding = 0;
        address payee = payeeOf(msg.sender);
        emit StakeWithdrawn(msg.sender, payee, amount);
        _token.safeTransfer(payee, amount);
    }

    // ------------------------------------------------------------------ markets

    /// @inheritdoc IProviderRegistry
    function lockCollateral(address provider, uint256 amount) external onlyRole(MARKET_ROLE) {
        _requireRegistered(provider);
        StakeInfo storage s = _stakes[provider];
        if (s.free < amount) revert RegistryInsufficientFreeStake(provider, s.free, amount);
        uint128 amount128 = _toUint128(amount);
        // free >= amount was checked above, and free + locked is bounded by the tokens held (< 2^128).
        unchecked {
            s.free -= amount128;
            s.locked += amount128;
        }
        emit CollateralLocked(provider, msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function unlockCollateral(address provider, uint256 amount) external onlyRole(MARKET_ROLE) {
        StakeInfo storage s = _stakes[provider];
        if (s.locked < amount) revert RegistryInsufficientLocked(provider, s.locked, amount);
        uint128 amount128 = _toUint128(amount);
        // locked >= amount was checked above; the sum stays below the tokens held.
        unchecked {
            s.locked -= amount128;
            s.free += amount128;
        }
        emit CollateralUnlocked(provider, msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function slash(
        address provider,
        uint256 fromLocked,
        uint256 maxFromUnlocked
    ) external returns (uint256 takenFromUnlocked) {
        uint256 marketWord = _marketWordOfCaller();
        StakeInfo storage s = _stakes[provider];
        if (s.locked < fromLocked) revert RegistryInsufficientLocked(provider, s.locked, fromLocked);
        uint128 locked128 = _toUint128(fromLocked);
        uint256 free = s.free;
        uint256 fromFree = maxFromUnlocked < free ? maxFromUnlocked : free;
        uint256 rest = maxFromUnlocked - fromFree;
        // Every subtraction is bounded by the balance it is taken from (checked or min'ed above).
        unchecked {
            s.locked -= locked128;
            s.free = uint128(free - fromFree);
            takenFromUnlocked = fromFree;
            // The unbonding word is read only when free stake did not cover the bounty (a bounty-only slash of a
            // staked provider touches one stake word).
            if (rest != 0) {
                uint256 unbonding = s.unbonding;
                uint256 fromUnbonding = rest < unbonding ? rest : unbonding;
                s.unbonding = uint128(unbonding - fromUnbonding);
                takenFromUnlocked += fromUnbonding;
            }
        }
        // The debt is slashed stake, bounded by the tokens ever staked (< 2^128 each): it never reaches bit 255.
        _marketWords[msg.sender] = marketWord + fromLocked + takenFromUnlocked;
        emit StakeSlashed(provider, msg.sender, fromLocked, takenFromUnlocked);
    }

    /// @inheritdoc IProviderRegistry
    function bondStake(address provider, uint256 amount) external {
        uint256 marketWord = _marketWordOfCaller();
        _requireRegistered(provider);
        StakeInfo storage s = _stakes[provider];
        if (s.free < amount) revert RegistryInsufficientFreeStake(provider, s.free, amount);
        // free >= amount was checked above; what is held for the market is stake, bounded by the tokens ever staked
        // (< 2^128 each): it never reaches bit 255.
        unchecked {
            s.free -= uint128(amount);
            _marketWords[msg.sender] = marketWord + amount;
        }
        emit StakeBonded(provider, msg.sender, amount);
    }

    /// @inheritdoc IProviderRegistry
    function returnStake(address provider, uint256 amount) external nonReentrant {
        uint256 marketWord = _marketWordOfCaller();
        uint128 amount128 = _toUint128(amount);
        uint256 held = marketWord & ~_MARKET_BIT;
        uint256 fromHeld = amount < held ? amount : held;
        // fromHeld <= held, the low bits of the word.
        unchecked {
            _marketWords[msg.sender] = marketWord - fromHeld;
        }
        _stakes[provider].free += amount128;
        emit StakeReturned(provider, msg.sender, amount);
        // Interaction last: the part the market already collected comes back from it, exactly.
        if (amount != fromHeld) _token.pull(msg.sender, amount - fromHeld);
    }

    /// @inheritdoc IProviderRegistry
    function collectSlashed() external nonReentrant returns (uint256 amount) {
        amount = _marketWordOfCaller() & ~_MARKET_BIT;
        if (amount == 0) return 0;
        _marketWords[msg.sender] = _MARKET_BIT;
        emit SlashedCollected(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IProviderRegistry
    function setUnbondingDelay(uint64 delay) external onlyRole(PARAMETER_ROLE) {
        _setUnbondingDelay(delay);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IProviderRegistry
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IProviderRegistry
    function unbondingDelay() external view returns (uint64) {
        return _unbondingDelay;
    }

    /// @inheritdoc IProviderRegistry
    function providerInfo(address provider) external view returns (ProviderInfo memory) {
        return _providers[provider];
    }

    /// @inheritdoc IProviderRegistry
    function stakeInfo(address provider) external view returns (StakeInfo memory) {
        return _stakes[provider];
    }

    /// @inheritdoc IProviderRegistry
    function isRegistered(address provider) external view returns (bool) {
        return _providers[provider].registered;
    }

    /// @inheritdoc IProviderRegistry
    function payeeOf(address provider) public view returns (address) {
        address payee = _providers[provider].payee;
        return payee == address(0) ? provider : payee;
    }

    /// @inheritdoc IProviderRegistry
    function slashedOwedTo(address market) external view returns (uint256) {
        return _marketWords[market] & ~_MARKET_BIT;
    }

    /// @inheritdoc IProviderRegistry
    function providerCount() external view returns (uint256) {
        return _providerList.length;
    }

    /// @inheritdoc IProviderRegistry
    function providerAt(uint256 index) external view returns (address) {
        return _providerList[index];
    }

    // ------------------------------------------------------------------ internal

    function _startUnbonding(address provider, StakeInfo storage s, uint128 amount) private {
        uint64 releaseAt = uint64(block.timestamp) + _unbondingDelay;
        // free >= amount is checked by every caller; the sum stays below the tokens held.
        unchecked {
            s.free -= amount;
            s.unbonding += amount;
        }
        s.unbondingReleaseAt = releaseAt;
        emit UnbondingStarted(provider, amount, releaseAt);
    }

    function _setUnbondingDelay(uint64 delay) private {
        if (delay < MIN_UNBONDING_DELAY || delay > MAX_UNBONDING_DELAY) {
            revert RegistryParameterOutOfBounds(delay, MIN_UNBONDING_DELAY, MAX_UNBONDING_DELAY);
        }
        _unbondingDelay = delay;
        emit UnbondingDelaySet(delay);
    }

    function _requireRegistered(address provider) private view returns (ProviderInfo storage info) {
        info = _providers[provider];
        if (!info.registered) revert RegistryNotRegistered(provider);
    }

    function _checkProfile(address payee, string calldata endpoint) private pure {
        if (payee == address(0)) revert RegistryZeroPayee();
        uint256 length = bytes(endpoint).length;
        if (length == 0 || length > MAX_ENDPOINT_LENGTH)
            revert RegistryBadEndpoint(length, MAX_ENDPOINT_LENGTH);
    }

    /// @dev The caller's market word; reverts as `onlyRole(MARKET_ROLE)` does when the caller lacks the role.
    function _marketWordOfCaller() private view returns (uint256 word) {
        word = _marketWords[msg.sender];
        if (word & _MARKET_BIT == 0) revert AccessControlUnauthorizedAccount(msg.sender, MARKET_ROLE);
    }

    /// @dev Mirror MARKET_ROLE into the market's word (its debt is kept).
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == MARKET_ROLE) _marketWords[account] |= _MARKET_BIT;
    }

    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked && role == MARKET_ROLE) _marketWords[account] &= ~_MARKET_BIT;
    }

    function _toUint128(uint256 amount) private pure returns (uint128) {
        if (amount > type(uint128).max) revert RegistryAmountTooLarge(amount);
        return uint128(amount);
    }
}
