// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IProviderRegistry } from "../../../contracts/interfaces/IProviderRegistry.sol";
import { IStorageMarket } from "../../../contracts/interfaces/IStorageMarket.sol";
import { ProviderRegistry } from "../../../contracts/registry/ProviderRegistry.sol";
import { StorageMarket } from "../../../contracts/storage/StorageMarket.sol";
import { TestStablecoin } from "../../../contracts/token/TestStablecoin.sol";
import { TestBase } from "./TestBase.sol";

/// @notice Deploys the storage suite inside a Solidity test and builds signed proposals and proofs.
/// @dev `new StorageMarket(...)` works in Hardhat's Solidity test runner: the public libraries it links
///      (ProvingLib, DealAccounting, StorageParams) are deployed and linked automatically, as in Foundry.
abstract contract MarketFixture is TestBase {
    uint256 internal constant USDC = 1e6;
    uint256 internal constant PERIOD = 3_600;
    uint256 internal constant T0 = 1_700_000_000;
    bytes32 internal constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );

    TestStablecoin internal token;
    ProviderRegistry internal registry;
    StorageMarket internal market;

    /// @dev The fixture's parameters (as in test/helpers/fixture.ts, with short deals).
    function defaultParameters() internal pure returns (IStorageMarket.Parameters memory) {
        return
            IStorageMarket.Parameters({
                proofWindow: 1_800,
                challengeCount: 2,
                challengeFinality: 2,
                maxFaults: 3,
                missedFaultPenaltyBps: 1_000,
                declaredFaultPenaltyBps: 500,
                providerTerminationFeeBps: 2_000,
                faultTerminationBountyBps: 1_000,
                treasuryShareBps: 1_000,
                minDealPeriods: 1,
                maxDealPeriods: 24 * 365,
                maxPieceSize: 1 << 30,
                missedProofBounty: uint128(USDC)
            });
    }

    /// @dev Deploy token, registry and market with this contract as owner and admin, at a realistic time.
    function deploySuite(
        IStorageMarket.Parameters memory params,
        address treasury,
        uint64 unbondingDelay
    ) internal {
        vm.warp(T0);
        vm.roll(1_000);
        token = new TestStablecoin(address(this));
        registry = new ProviderRegistry(IERC20(address(token)), address(this), unbondingDelay);
        market = new StorageMarket(
            IProviderRegistry(address(registry)),
            IERC20(address(token)),
            address(this),
            treasury,
            PERIOD,
            100 * USDC,
            params
        );
        registry.grantRole(registry.MARKET_ROLE(), address(market));
    }

    /// @dev Register `provider` (as its own payee).
    function registerProvider(address provider) internal {
        vm.prank(provider);
        registry.register(provider, "http://127.0.0.1:9000", 1 << 40, uint128(2 * USDC));
    }

    /// @dev Mint `amount` to `provider` and stake it.
    function stakeFor(address provider, uint256 amount) internal {
        token.mint(provider, amount);
        vm.startPrank(provider);
        token.approve(address(registry), amount);
        registry.stake(provider, amount);
        vm.stopPrank();
    }

    /// @dev Mint `amount` to `client` and deposit it into its market ledger balance.
    function depositFor(address client, uint256 amount) internal {
        token.mint(client, amount);
        vm.startPrank(client);
        token.approve(address(market), amount);
        market.deposit(client, amount);
        vm.stopPrank();
    }

    /// @dev The client's EIP-712 signature of `prop` (65 bytes, r || s || v).
    function signProposal(
        uint256 clientKey,
        IStorageMarket.DealProposal memory prop
    ) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(clientKey, market.proposalDigest(prop));
        return abi.encodePacked(r, s, v);
    }

    /// @dev The EIP-712 digest a client signs for `ext` (the market exposes no helper for extensions).
    function extensionDigest(IStorageMarket.DealExtension memory ext) internal view returns (bytes32) {
        (, string memory name, string memory version, uint256 chainId, address verifyingContract, , ) = market
            .eip712Domain();
        bytes32 domain = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256(bytes(name)),
                keccak256(bytes(version)),
                chainId,
                verifyingContract
            )
        );
        return
            keccak256(
                abi.encodePacked(
                    "\x19\x01",
                    domain,
                    keccak256(abi.encode(market.DEAL_EXTENSION_TYPEHASH(), ext))
                )
            );
    }

    /// @dev The terms of the deal `id` published from `prop` while `currentPeriod` was current.
    function dealFromProposal(
        uint64 id,
        IStorageMarket.DealProposal memory prop,
        uint256 currentPeriod
    ) internal pure returns (IStorageMarket.Deal memory d) {
        d.id = id;
        d.client = prop.client;
        d.provider = prop.provider;
        d.root = prop.root;
        d.size = prop.size;
        d.startPeriod = uint32(currentPeriod + 1);
        d.endPeriod = uint32(currentPeriod + 1 + prop.duration / PERIOD);
        d.pricePerSecond = prop.pricePerSecond;
        d.collateral = prop.collateral;
    }

    /// @dev The answer to a challenge on `d`, whose piece is the single 64-byte leaf (lo, hi).
    function singleLeafProof(
        IStorageMarket.Deal memory d,
        bytes32 lo,
        bytes32 hi
    ) internal pure returns (IStorageMarket.ChallengeProof memory pr) {
        pr.root = d.root;
        pr.meta = uint256(d.size) | (uint256(d.endPeriod) << 64);
        pr.partiesHash = keccak256(
            abi.encode(d.id, d.client, d.provider, d.startPeriod, d.pricePerSecond, d.collateral)
        );
        pr.leaf[0] = lo;
        pr.leaf[1] = hi;
        pr.path = new bytes32[](0);
    }

    /// @dev Challenge word `i` of `provider`'s `period` (the documented derivation).
    function challengeWord(
        bytes32 seed,
        address provider,
        uint32 period,
        uint256 i
    ) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, provider, period, i)));
    }
}
