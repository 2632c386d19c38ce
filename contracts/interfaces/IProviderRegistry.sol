// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IGoverned } from "./IGoverned.sol";

/// @title IProviderRegistry
/// @notice Providers register here, stake the payment token once, and have part of that stake locked as
///         collateral by the markets for each deal or lease they take. Free stake leaves through an
///         unbonding delay that no pause can block. A pause (`IGoverned.pause`) stops new registrations only.
interface IProviderRegistry is IGoverned {
    /// @notice Public profile of a provider, used by clients to choose whom to store with.
    /// @param payee Address that receives the provider's payouts and withdrawn stake.
    /// @param registered True while the provider is registered.
    /// @param capacityBytes Storage capacity the provider offers, in bytes (informational).
    /// @param pricePerTiBMonth Asking storage price in token units per TiB per 30 days (informational).
    /// @param endpoint HTTP(S) base URL of the provider's data plane.
    struct ProviderInfo {
        address payee;
        bool registered;
        uint64 capacityBytes;
        uint128 pricePerTiBMonth;
        string endpoint;
    }

    /// @notice A provider's stake, split by state. `free + locked + unbonding` is what the registry holds for it; a
    ///         bond a market took with `bondStake` is the market's to account for (the storage market's `proofBond`).
    /// @param free Stake that can be locked as collateral or unbonded.
    /// @param locked Stake locked as collateral by a market.
    /// @param unbonding Stake on its way out; still slashable until withdrawn.
    /// @param unbondingReleaseAt Timestamp from which `unbonding` can be withdrawn.
    struct StakeInfo {
        uint128 free;
        uint128 locked;
        uint128 unbonding;
        uint64 unbondingReleaseAt;
    }

    /// @notice Emitted when a provider registers.
    /// @param provider The provider's address.
    /// @param payee Payout address.
    /// @param endpoint HTTP base URL of the provider's data plane.
    /// @param capacityBytes Offered capacity in bytes.
    /// @param pricePerTiBMonth Asking price per TiB per 30 days.
    event ProviderRegistered(
        address indexed provider,
        address payee,
        string endpoint,
        uint64 capacityBytes,
        uint128 pricePerTiBMonth
    );
    /// @notice Emitted when a provider changes its profile.
    /// @param provider The provider's address.
    /// @param payee Payout address.
    /// @param endpoint HTTP base URL of the provider's data plane.
    /// @param capacityBytes Offered capacity in bytes.
    /// @param pricePerTiBMonth Asking price per TiB per 30 days.
    event ProviderUpdated(
        address indexed provider,
        address payee,
        string endpoint,
        uint64 capacityBytes,
        uint128 pricePerTiBMonth
    );
    /// @notice Emitted when a provider deregisters; its free stake starts unbonding.
    /// @param provider The provider's address.
    event ProviderDeregistered(address indexed provider);
    /// @notice Emitted when stake is added.
    /// @param provider The provider credited.
    /// @param from Who paid the tokens.
    /// @param amount Tokens added to free stake.
    event StakeAdded(address indexed provider, address indexed from, uint256 amount);
    /// @notice Emitted when free stake starts unbonding.
    /// @param provider The provider.
    /// @param amount Amount moved from free to unbonding.
    /// @param releaseAt Timestamp from which the whole unbonding balance can be withdrawn.
    event UnbondingStarted(address indexed provider, uint256 amount, uint64 releaseAt);
    /// @notice Emitted when unbonding stake returns to free stake.
    /// @param provider The provider.
    /// @param amount Amount moved back to free stake.
    event UnbondingCancelled(address indexed provider, uint256 amount);
    /// @notice Emitted when unbonded stake is paid out.
    /// @param provider The provider.
    /// @param payee Recipient of the tokens.
    /// @param amount Amount paid.
    event StakeWithdrawn(address indexed provider, address indexed payee, uint256 amount);
    /// @notice Emitted when a market locks collateral.
    /// @param provider The provider.
    /// @param market The market that locked it.
    /// @param amount Amount moved from free to locked.
    event CollateralLocked(address indexed provider, address indexed market, uint256 amount);
    /// @notice Emitted when a market releases collateral back to free stake.
    /// @param provider The provider.
    /// @param market The market that released it.
    /// @param amount Amount moved from locked to free.
    event CollateralUnlocked(address indexed provider, address indexed market, uint256 amount);
    /// @notice Emitted when a market slashes stake; the tokens become owed to that market (see `collectSlashed`).
    /// @param provider The provider.
    /// @param market The market that slashed.
    /// @param fromLocked Amount taken from locked collateral.
    /// @param fromUnlocked Amount taken from free and unbonding stake.
    event StakeSlashed(
        address indexed provider,
        address indexed market,
        uint256 fromLocked,
        uint256 fromUnlocked
    );
    /// @notice Emitted when a market takes free stake into a bond it holds itself (the storage market's proof bond);
    ///         the tokens stay here, held for that market (`slashedOwedTo`), which slashes and returns the bond without
    ///         calling the registry.
    /// @param provider The provider.
    /// @param market The market that holds the bond.
    /// @param amount Amount moved from free stake to the market.
    event StakeBonded(address indexed provider, address indexed market, uint256 amount);
    /// @notice Emitted when a market returns what is left of a bond it held to the provider's free stake.
    /// @param provider The provider.
    /// @param market The market that held the bond.
    /// @param amount Amount added to free stake.
    event StakeReturned(address indexed provider, address indexed market, uint256 amount);
    /// @notice Emitted when a market collects the slashed tokens owed to it.
    /// @param market The market.
    /// @param amount Tokens transferred to it.
    event SlashedCollected(address indexed market, uint256 amount);
    /// @notice Emitted when the unbonding delay changes.
    /// @param delay New delay in seconds.
    event UnbondingDelaySet(uint64 delay);

    /// @notice The provider is already registered.
    /// @param provider The provider.
    error RegistryAlreadyRegistered(address provider);
    /// @notice The provider is not registered.
    /// @param provider The provider.
    error RegistryNotRegistered(address provider);
    /// @notice The payee is the zero address.
    error RegistryZeroPayee();
    /// @notice The endpoint is empty or longer than the limit.
    /// @param length Length given.
    /// @param maxLength Maximum accepted length.
    error RegistryBadEndpoint(uint256 length, uint256 maxLength);
    /// @notice An amount of zero was given where a positive amount is needed.
    error RegistryZeroAmount();
    /// @notice Free stake is smaller than needed.
    /// @param provider The provider.
    /// @param free Free stake available.
    /// @param needed Amount needed.
    error RegistryInsufficientFreeStake(address provider, uint256 free, uint256 needed);
    /// @notice Locked collateral is smaller than the amount to release or slash.
    /// @param provider The provider.
    /// @param locked Locked collateral.
    /// @param needed Amount asked.
    error RegistryInsufficientLocked(address provider, uint256 locked, uint256 needed);
    /// @notice Unbonding balance is smaller than asked.
    /// @param provider The provider.
    /// @param unbonding Unbonding balance.
    /// @param needed Amount asked.
    error RegistryInsufficientUnbonding(address provider, uint256 unbonding, uint256 needed);
    /// @notice Unbonding stake cannot be withdrawn yet.
    /// @param releaseAt Timestamp from which it can.
    /// @param nowTs Current timestamp.
    error RegistryStillUnbonding(uint64 releaseAt, uint256 nowTs);
    /// @notice The provider still has collateral locked in a market.
    /// @param provider The provider.
    /// @param locked Locked collateral.
    error RegistryCollateralLocked(address provider, uint256 locked);
    /// @notice A parameter is outside its hard bounds.
    /// @param value Value given.
    /// @param min Lowest accepted.
    /// @param max Highest accepted.
    error RegistryParameterOutOfBounds(uint256 value, uint256 min, uint256 max);
    /// @notice An amount does not fit the 128-bit stake accounting.
    /// @param amount Amount given.
    error RegistryAmountTooLarge(uint256 amount);

    /// @notice Register as a provider. Blocked while paused (new business).
    /// @param payee Payout address (non-zero).
    /// @param endpoint HTTP base URL of the data plane (1..256 bytes).
    /// @param capacityBytes Offered capacity in bytes.
    /// @param pricePerTiBMonth Asking price per TiB per 30 days in token units.
    function register(
        address payee,
        string calldata endpoint,
        uint64 capacityBytes,
        uint128 pricePerTiBMonth
    ) external;

    /// @notice Update the caller's profile.
    /// @param payee Payout address (non-zero).
    /// @param endpoint HTTP base URL of the data plane (1..256 bytes).
    /// @param capacityBytes Offered capacity in bytes.
    /// @param pricePerTiBMonth Asking price per TiB per 30 days in token units.
    function updateProvider(
        address payee,
        string calldata endpoint,
        uint64 capacityBytes,
        uint128 pricePerTiBMonth
    ) external;

    /// @notice Deregister the caller. Needs no locked collateral; all free stake starts unbonding.
    function deregister() external;

    /// @notice Add `amount` of the payment token to `provider`'s free stake, paid by the caller.
    /// @param provider The provider to credit (must be registered).
    /// @param amount Token amount; the registry must receive exactly this much (else `ExactPull.PaymentTokenShortfall`).
    function stake(address provider, uint256 amount) external;

    /// @notice Move `amount` of the caller's free stake to unbonding; the delay restarts for the whole balance.
    /// @param amount Amount to unbond.
    function requestUnbond(uint256 amount) external;

    /// @notice Move `amount` of the caller's unbonding stake back to free stake.
    /// @param amount Amount to return.
    function cancelUnbond(uint256 amount) external;

    /// @notice Pay the caller's unbonded stake to its payee once the delay has passed. Never blocked by a pause.
    /// @return amount Amount paid.
    function withdrawUnbonded() external returns (uint256 amount);

    /// @notice Lock `amount` of `provider`'s free stake as collateral. Markets only.
    /// @param provider The provider (must be registered).
    /// @param amount Amount to lock.
    function lockCollateral(address provider, uint256 amount) external;

    /// @notice Return `amount` of `provider`'s locked collateral to its free stake. Markets only.
    /// @param provider The provider.
    /// @param amount Amount to unlock.
    function unlockCollateral(address provider, uint256 amount) external;

    /// @notice Slash locked collateral and up to `maxFromUnlocked` of free then unbonding stake. The tokens
    ///         stay here, owed to the calling market, which credits them to the harmed parties at once and
    ///         collects them with `collectSlashed` when it pays out (saves a token transfer per slash). Markets only.
    /// @param provider The provider.
    /// @param fromLocked Exact amount to take from locked collateral.
    /// @param maxFromUnlocked Most to take from free and unbonding stake (takes what there is, up to this).
    /// @return takenFromUnlocked Amount actually taken from free and unbonding stake.
    function slash(
        address provider,
        uint256 fromLocked,
        uint256 maxFromUnlocked
    ) external returns (uint256 takenFromUnlocked);

    /// @notice Move exactly `amount` of `provider`'s free stake into a bond the calling market holds itself: the
    ///         tokens stay here, held for the market (counted in `slashedOwedTo`), and from then on only the market
    ///         accounts for them — it slashes the bond by crediting its own ledger and gives back what is left with
    ///         `returnStake`. Markets only.
    /// @param provider The provider (must be registered).
    /// @param amount Amount to take from free stake.
    function bondStake(address provider, uint256 amount) external;

    /// @notice Give `amount` of a bond the calling market held back to `provider`'s free stake (registered or not):
    ///         taken from the tokens held here for the market, and for any part the market has already collected,
    ///         pulled exactly from the market (its allowance). Markets only.
    /// @param provider The provider.
    /// @param amount Amount to add to free stake.
    function returnStake(address provider, uint256 amount) external;

    /// @notice Transfer every token held here for the calling market (slashed stake and bonds). Markets only; never blocked by a pause.
    /// @return amount Tokens transferred.
    function collectSlashed() external returns (uint256 amount);

    /// @notice Set the unbonding delay (bounded). Parameter role only.
    /// @param delay Delay in seconds.
    function setUnbondingDelay(uint64 delay) external;

    /// @notice The payment token staked here.
    /// @return The token.
    function token() external view returns (address);

    /// @notice The current unbonding delay in seconds.
    /// @return The delay.
    function unbondingDelay() external view returns (uint64);

    /// @notice A provider's public profile.
    /// @param provider The provider.
    /// @return The profile.
    function providerInfo(address provider) external view returns (ProviderInfo memory);

    /// @notice A provider's stake by state.
    /// @param provider The provider.
    /// @return The stake.
    function stakeInfo(address provider) external view returns (StakeInfo memory);

    /// @notice Whether `provider` is registered.
    /// @param provider The provider.
    /// @return True when registered.
    function isRegistered(address provider) external view returns (bool);

    /// @notice Where `provider`'s payouts go (its payee, or itself if unset).
    /// @param provider The provider.
    /// @return The payout address.
    function payeeOf(address provider) external view returns (address);

    /// @notice Tokens held here on behalf of `market`: stake it slashed and bonds it holds (`bondStake`), not yet
    ///         collected.
    /// @param market The market.
    /// @return The amount.
    function slashedOwedTo(address market) external view returns (uint256);

    /// @notice Number of providers that ever registered (for enumeration with `providerAt`).
    /// @return The count.
    function providerCount() external view returns (uint256);

    /// @notice The provider registered `index`-th (0-based), including deregistered ones.
    /// @param index Position.
    /// @return The provider address.
    function providerAt(uint256 index) external view returns (address);
}
