/**
 * Deploying to a public testnet, rehearsed with real processes: a second `hardhat node` stands in for the testnet
 * (network `testnetRehearsal`, a locally held deployer key, as on Sepolia), a stand-in token is deployed there,
 * and `scripts/deploy.ts` runs as a child process with the shipped sepolia.json whose token, proposers, executors
 * and treasury are replaced. Checks the dry run sends nothing, then that the real run deploys every contract
 * with the file's parameters and leaves every role with the timelock.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, Wallet, ZeroHash, id, type Result } from "ethers";
import { loadDeployment } from "../../offchain/sdk/chain/deployment.js";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import { freePort, NODE, ROOT, run, stopProcess } from "../../scripts/lib/localChain.js";
import {
  ComputeMarket__factory,
  ProviderRegistry__factory,
  RetrievalChallenges__factory,
  StorageMarket__factory,
  StrataTimelock__factory,
  TestStablecoin__factory,
} from "../../typechain-types/index.js";

const HARDHAT = path.join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");
const TSX = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");

type Body = Record<string, unknown>;

describe("e2e: deploying to a testnet (a second hardhat node as testnetRehearsal)", function () {
  this.timeout(90_000);

  let node: ChildProcess | undefined;
  let provider: JsonRpcProvider;
  let workDir = "";
  let env: NodeJS.ProcessEnv;
  let parameterFile: string;
  let body: Body;
  const deployer = devAccountWallet(1);
  const deploymentId = `e2e-testnet-${process.pid}-${Date.now()}`;
  const deploymentDir = path.join(ROOT, "deploy", "deployments", deploymentId);
  const proposer = Wallet.createRandom().address;
  const executor = Wallet.createRandom().address;
  const treasury = Wallet.createRandom().address;

  before(async function () {
    const port = await freePort();
    const rpcUrl = `http://127.0.0.1:${port}`;
    node = spawn(NODE, [HARDHAT, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    provider = new JsonRpcProvider(rpcUrl, 31337, { cacheTimeout: -1, staticNetwork: true });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await provider.send("eth_chainId", []);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    // The testnet's token: an ERC-20 someone else deployed (here a TestStablecoin from another account).
    const token = await new TestStablecoin__factory(devAccountWallet(9).connect(provider)).deploy(
      devAccountWallet(9).address,
    );
    await token.waitForDeployment();

    workDir = mkdtempSync(path.join(tmpdir(), "strata-deploy-e2e-"));
    const json = JSON.parse(
      readFileSync(path.join(ROOT, "deploy", "parameters", "sepolia.json"), "utf8"),
    ) as Record<string, Body>;
    body = json.StrataNetwork ?? {};
    Object.assign(body, {
      token: await token.getAddress(),
      proposers: [proposer],
      executors: [executor],
      treasury,
    });
    parameterFile = path.join(workDir, "testnet.json");
    writeFileSync(parameterFile, JSON.stringify(json, null, 2));
    env = {
      STRATA_REHEARSAL_RPC_URL: rpcUrl,
      STRATA_REHEARSAL_PRIVATE_KEY: deployer.privateKey,
      STRATA_CONFIRMATIONS: "1",
      STRATA_BLOCK_POLL_MS: "100",
    };
  });

  after(async function () {
    provider.destroy();
    if (node !== undefined) await stopProcess(node);
    rmSync(deploymentDir, { recursive: true, force: true });
    if (workDir !== "") rmSync(workDir, { recursive: true, force: true });
  });

  const deployScript = (...args: string[]) =>
    run(
      [
        TSX,
        "scripts/deploy.ts",
        "--network",
        "testnetRehearsal",
        "--build-profile",
        "default",
        "--deployment-id",
        deploymentId,
        "--json",
        ...args,
      ],
      { env, timeoutMs: 60_000 },
    );

  it("dry run: rehearses and prints the plan, and sends no transaction", async function () {
    const nonce = await provider.getTransactionCount(deployer.address);
    const block = await provider.getBlockNumber();
    const result = await deployScript("--parameters", parameterFile, "--dry-run");
    if (result.code !== 0)
      throw new Error(`dry run failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
    const plan = JSON.parse(result.stdout) as {
      dryRun: boolean;
      deployer: { address: string };
      rehearsal: { totalGas: string; roles: { contract: string; role: string; holders: string[] }[] };
    };
    expect(plan.dryRun).to.equal(true);
    expect(plan.deployer.address).to.equal(deployer.address);
    expect(BigInt(plan.rehearsal.totalGas) > 1_000_000n).to.equal(true);
    const proposers = plan.rehearsal.roles.find(
      (r) => r.contract === "StrataTimelock" && r.role === "PROPOSER_ROLE",
    );
    expect(proposers?.holders).to.deep.equal([`proposer ${proposer}`]);
    expect(await provider.getTransactionCount(deployer.address)).to.equal(nonce);
    expect(await provider.getBlockNumber()).to.equal(block);
    expect(existsSync(deploymentDir)).to.equal(false);
  });

  it("a value out of bounds stops the run before anything is sent, with the contract's bound", async function () {
    const json = { StrataNetwork: { ...body, market: { ...(body.market as Body), proofWindow: 100_000 } } };
    const bad = path.join(workDir, "bad.json");
    writeFileSync(bad, JSON.stringify(json));
    const nonce = await provider.getTransactionCount(deployer.address);
    const result = await deployScript("--parameters", bad);
    expect(result.code).to.equal(1);
    const { error } = JSON.parse(result.stdout) as { error: { code: string } };
    expect(error.code).to.equal("PARAMETER_OUT_OF_BOUNDS");
    expect(await provider.getTransactionCount(deployer.address)).to.equal(nonce);
  });

  it("deploys every contract with the file's parameters and leaves every role with the timelock", async function () {
    const result = await deployScript("--parameters", parameterFile);
    if (result.code !== 0)
      throw new Error(`deploy failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
    const report = JSON.parse(result.stdout) as {
      deployment: { addressesFile: string; checks: { ok: boolean }[] };
    };
    expect(report.deployment.addressesFile).to.equal(path.join(deploymentDir, "deployed_addresses.json"));
    expect(report.deployment.checks.every((c) => c.ok)).to.equal(true);

    // Read back independently of the script: the addresses where the CLI finds them, then the chain.
    const d = await loadDeployment({ chainId: 31337n, file: report.deployment.addressesFile });
    expect(d.module).to.equal("StrataNetwork");
    expect(d.token).to.equal(body.token);
    const raw = JSON.parse(readFileSync(report.deployment.addressesFile, "utf8")) as Record<string, string>;
    const timelockAddress = raw["StrataNetwork#StrataTimelock"] ?? "";
    const market = StorageMarket__factory.connect(d.market, provider);
    const registry = ProviderRegistry__factory.connect(d.registry, provider);
    const retrieval = RetrievalChallenges__factory.connect(d.retrievalChallenges ?? "", provider);
    const compute = ComputeMarket__factory.connect(d.computeMarket ?? "", provider);
    const timelock = StrataTimelock__factory.connect(timelockAddress, provider);

    // Struct results are ethers Results: compare them field by field with the file's numbers.
    const asNumbers = (r: object) =>
      Object.fromEntries(Object.entries((r as Result).toObject()).map(([k, v]) => [k, Number(v)]));
    expect(asNumbers(await market.parameters())).to.deep.equal(body.market);
    expect(await market.provingPeriod()).to.equal(BigInt(body.provingPeriod as number));
    expect(await registry.unbondingDelay()).to.equal(BigInt(body.unbondingDelay as number));
    expect(asNumbers(await retrieval.parameters())).to.deep.equal(body.retrieval);
    expect(await retrieval.maxBond()).to.equal(BigInt(body.maxRetrievalBond as number));
    expect(asNumbers(await compute.parameters())).to.deep.equal(body.compute);
    expect(await timelock.getMinDelay()).to.equal(BigInt(body.timelockDelay as number));
    expect(await market.treasury()).to.equal(treasury);
    expect(await compute.treasury()).to.equal(treasury);

    const roles = [ZeroHash, id("PARAMETER_ROLE"), id("PAUSER_ROLE")];
    for (const contract of [d.registry, d.market, d.retrievalChallenges ?? "", d.computeMarket ?? ""]) {
      const c = StorageMarket__factory.connect(contract, provider);
      for (const role of roles) {
        expect(await c.hasRole(role, timelockAddress), `timelock ${role} on ${contract}`).to.equal(true);
        expect(await c.hasRole(role, deployer.address), `deployer ${role} on ${contract}`).to.equal(false);
      }
    }
    expect(await timelock.hasRole(ZeroHash, deployer.address)).to.equal(false);
    expect(await timelock.hasRole(id("PROPOSER_ROLE"), proposer)).to.equal(true);
    expect(await timelock.hasRole(id("EXECUTOR_ROLE"), executor)).to.equal(true);
    expect(await timelock.hasRole(id("PROPOSER_ROLE"), deployer.address)).to.equal(false);
  });
});
