/**
 * Parameter files and their validation (deploy/lib/parameters.ts): the static checks, and the rehearsal that
 * deploys the real Ignition module to an in-process chain so that the contracts themselves reject values out of
 * their bounds.
 */
import { expect } from "chai";
import hre from "hardhat";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { getCreateAddress, Wallet, ZeroAddress } from "ethers";
import {
  checkAgainstNetwork,
  loadParameterFile,
  ParameterFileError,
  parseParameterFile,
  type ParameterFile,
} from "../../deploy/lib/parameters.js";
import {
  ParameterBoundsError,
  parseIgnitionCustomError,
  rehearseDeployment,
  type BoundViolation,
} from "../../deploy/lib/rehearsal.js";
import { devAccountWallet } from "../../offchain/sdk/chain/connect.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { ROOT } from "../../scripts/lib/localChain.js";

const PARAMETERS = path.join(ROOT, "deploy", "parameters");
type Body = Record<string, unknown>;

async function readJson(name: string): Promise<Record<string, Body>> {
  return JSON.parse(await readFile(path.join(PARAMETERS, name), "utf8")) as Record<string, Body>;
}

/** The shipped local file with `edit` applied to its StrataLocal body. */
async function localWith(edit: (body: Body) => void): Promise<ParameterFile> {
  const json = await readJson("local.json");
  const body = json.StrataLocal;
  if (body === undefined) throw new Error("local.json has no StrataLocal");
  edit(body);
  return parseParameterFile(json, "local.json (edited)");
}

/** A shipped testnet file with its placeholders replaced by fresh addresses, and `overrides` applied. */
async function testnetFile(name: string, overrides: Body = {}): Promise<ParameterFile> {
  const json = await readJson(name);
  const body = json.StrataNetwork;
  if (body === undefined) throw new Error(`${name} has no StrataNetwork`);
  body.proposers = [Wallet.createRandom().address];
  body.executors = [Wallet.createRandom().address];
  body.treasury = Wallet.createRandom().address;
  Object.assign(body, overrides);
  return parseParameterFile(json, name);
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ParameterFileError);
    expect((error as ParameterFileError).code).to.equal("PARAMETERS_INVALID");
    return (error as ParameterFileError).issues.map((i) => i.parameter);
  }
  throw new Error("expected PARAMETERS_INVALID");
}

async function violationsOf(file: ParameterFile): Promise<BoundViolation[]> {
  try {
    await rehearseDeployment(hre, file);
  } catch (error) {
    expect(error).to.be.instanceOf(ParameterBoundsError);
    expect((error as ParameterBoundsError).code).to.equal("PARAMETER_OUT_OF_BOUNDS");
    return [...(error as ParameterBoundsError).violations];
  }
  throw new Error("expected PARAMETER_OUT_OF_BOUNDS");
}

describe("deploy: parameter files", function () {
  this.timeout(120_000);

  describe("the shipped files", function () {
    it("local.json rehearses cleanly and governance ends with the timelock", async function () {
      const file = await loadParameterFile(path.join(PARAMETERS, "local.json"));
      const rehearsal = await rehearseDeployment(hre, file);
      expect(rehearsal.handover.every((c) => c.ok)).to.equal(true);
      expect(rehearsal.totalGas).to.equal(rehearsal.transactions.reduce((s, t) => s + t.gasUsed, 0n));
      expect(
        rehearsal.transactions.filter((t) => t.kind === "deploy").map((t) => t.label),
      ).to.include.members([
        "StrataTimelock",
        "ProviderRegistry",
        "StorageMarket",
        "RetrievalChallenges",
        "ComputeMarket",
        "TestStablecoin",
      ]);
      const holders = (contract: string, role: string) =>
        rehearsal.roles.find((r) => r.contract === contract && r.role === role)?.holders;
      for (const contract of ["ProviderRegistry", "StorageMarket", "RetrievalChallenges", "ComputeMarket"])
        for (const role of ["DEFAULT_ADMIN_ROLE", "PARAMETER_ROLE", "PAUSER_ROLE"])
          expect(holders(contract, role), `${contract} ${role}`).to.deep.equal(["StrataTimelock"]);
      expect(holders("ProviderRegistry", "MARKET_ROLE")).to.deep.equal(["ComputeMarket", "StorageMarket"]);
      expect(holders("StrataTimelock", "PROPOSER_ROLE")).to.deep.equal(["deployer"]);
    });

    it("local.json holds the values the modules use when a file does not set them", async function () {
      // The rehearsal reads every value back and compares it with the file's: with no parameters given to
      // Ignition, it passes only if the modules' defaults are local.json's values.
      const file = await loadParameterFile(path.join(PARAMETERS, "local.json"));
      await rehearseDeployment(hre, { ...file, ignition: {} });
    });

    for (const [name, chainType] of [
      ["sepolia.json", "l1"],
      ["base-sepolia.json", "op"],
    ] as const) {
      it(`${name} is within the contracts' bounds once its placeholders are replaced (${chainType})`, async function () {
        const file = await testnetFile(name);
        const rehearsal = await rehearseDeployment(hre, file, { chainType });
        expect(rehearsal.handover.every((c) => c.ok)).to.equal(true);
        expect(file.values.provingPeriod).to.equal(86_400n);
        expect(file.values.timelockDelay).to.equal(172_800n);
      });
    }

    it("rejects the testnet files' placeholders until they are replaced", async function () {
      for (const name of ["sepolia.json", "base-sepolia.json"]) {
        const json = await readJson(name);
        expect(issuesOf(() => parseParameterFile(json, name))).to.deep.equal([
          "proposers[0]",
          "executors[0]",
          "treasury",
        ]);
      }
    });
  });

  describe("static checks", function () {
    it("rejects unknown, missing and ill-typed parameters with every issue listed", async function () {
      const json = await readJson("local.json");
      const body = json.StrataLocal ?? {};
      const market = body.market as Body;
      body.provingPerod = 3600; // a typo Ignition would silently ignore
      delete body.unbondingDelay;
      market.maxFaults = 300; // uint8 in the contract
      market.challengeCount = 1.5;
      delete market.proofWindow;
      market.extra = 1;
      body.token = "0x0000000000000000000000000000000000000001"; // StrataLocal deploys its own
      expect(issuesOf(() => parseParameterFile(json, "edited"))).to.have.members([
        "provingPerod",
        "token",
        "unbondingDelay",
        "market.maxFaults",
        "market.challengeCount",
        "market.proofWindow",
        "market.extra",
      ]);
    });

    it("rejects malformed, zero and placeholder addresses, and an empty proposer list", async function () {
      const json = await readJson("sepolia.json");
      const body = json.StrataNetwork ?? {};
      body.token = "0x1c7d4b196cb0c7b01d743fbc6116a902379c7238".replace("1c7d", "1C7d"); // bad checksum
      body.proposers = [];
      body.executors = [ZeroAddress, "REPLACE_WITH_EXECUTOR_MULTISIG"]; // zero = anyone may execute: allowed
      body.treasury = ZeroAddress;
      expect(issuesOf(() => parseParameterFile(json, "edited"))).to.deep.equal([
        "token",
        "proposers",
        "executors[1]",
        "treasury",
      ]);
    });

    it("rejects a file that is not for exactly one suite module", function () {
      expect(issuesOf(() => parseParameterFile({ StrataLocal: {}, StrataNetwork: {} }, "two"))).to.deep.equal(
        ["(file)"],
      );
      expect(issuesOf(() => parseParameterFile({ Other: {} }, "other"))).to.deep.equal(["(file)"]);
      expect(issuesOf(() => parseParameterFile([], "array"))).to.deep.equal(["(file)"]);
    });

    it("reports a missing file as FILE_NOT_FOUND and bad JSON as PARAMETERS_INVALID", async function () {
      const dir = mkdtempSync(path.join(tmpdir(), "strata-params-"));
      try {
        const bad = path.join(dir, "bad.json");
        writeFileSync(bad, "{ not json");
        const codeOf = async (file: string) => {
          try {
            await loadParameterFile(file);
          } catch (error) {
            return (error as StrataError).code;
          }
          return "none";
        };
        expect(await codeOf(path.join(dir, "missing.json"))).to.equal("FILE_NOT_FOUND");
        expect(await codeOf(bad)).to.equal("PARAMETERS_INVALID");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("reads values above 2^53 written as Ignition bigint strings", async function () {
      const dir = mkdtempSync(path.join(tmpdir(), "strata-params-"));
      try {
        const json = await readJson("local.json");
        const body = json.StrataLocal ?? {};
        body.maxRetrievalBond = "340282366920938463463374607431768211455n";
        const file = path.join(dir, "big.json");
        writeFileSync(file, JSON.stringify(json));
        expect((await loadParameterFile(file)).values.maxRetrievalBond).to.equal((1n << 128n) - 1n);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("checks against the target network", function () {
    const withCode = { getCode: () => Promise.resolve("0x60006000") };

    it("rejects Hardhat development accounts outside a local chain, but not on one", async function () {
      const file = await testnetFile("sepolia.json");
      const dev = devAccountWallet(3).address;
      if (file.governance === undefined) throw new Error("sepolia.json has no governance");
      const governed = { ...file, governance: { ...file.governance, proposers: [dev] } };
      let code = "none";
      let issues: string[] = [];
      try {
        await checkAgainstNetwork(governed, { chainId: 11_155_111n, ...withCode });
      } catch (error) {
        code = (error as ParameterFileError).code;
        issues = (error as ParameterFileError).issues.map((i) => i.parameter);
      }
      expect(code).to.equal("PARAMETERS_INVALID");
      expect(issues).to.deep.equal(["proposers[0]"]);
      await checkAgainstNetwork(governed, { chainId: 31_337n, ...withCode });
    });

    it("rejects a token address without code, and StrataLocal on a public chain", async function () {
      const file = await testnetFile("sepolia.json");
      const noCode = { getCode: () => Promise.resolve("0x") };
      const issuesFor = async (f: ParameterFile, target: Parameters<typeof checkAgainstNetwork>[1]) => {
        try {
          await checkAgainstNetwork(f, target);
        } catch (error) {
          return (error as ParameterFileError).issues.map((i) => i.parameter);
        }
        return [];
      };
      expect(await issuesFor(file, { chainId: 11_155_111n, ...noCode })).to.deep.equal(["token"]);
      const local = await loadParameterFile(path.join(PARAMETERS, "local.json"));
      expect(await issuesFor(local, { chainId: 11_155_111n, ...withCode })).to.deep.equal(["(file)"]);
      expect(await issuesFor(local, { chainId: 31_337n, ...withCode })).to.deep.equal([]);
    });
  });

  describe("the rehearsal: bounds come from the contracts", function () {
    const cases: [string, (b: Body) => void, Omit<BoundViolation, "value"> & { value: bigint }][] = [
      [
        "a proof window shorter than the contract allows",
        (b) => ((b.market as Body).proofWindow = 10),
        {
          parameter: "market.proofWindow",
          value: 10n,
          min: 30n,
          max: 3600n,
          contract: "StorageMarket",
          error: "MarketParameterOutOfBounds",
        },
      ],
      [
        "a proving period shorter than a minute",
        (b) => (b.provingPeriod = 30),
        {
          parameter: "provingPeriod",
          value: 30n,
          min: 60n,
          max: 30n * 86_400n,
          contract: "StorageMarket",
          error: "MarketParameterOutOfBounds",
        },
      ],
      [
        "an unbonding delay shorter than a minute",
        (b) => (b.unbondingDelay = 10),
        {
          parameter: "unbondingDelay",
          value: 10n,
          min: 60n,
          max: 90n * 86_400n,
          contract: "ProviderRegistry",
          error: "RegistryParameterOutOfBounds",
        },
      ],
      [
        "a retrieval bond above the deployment's cap",
        (b) => ((b.retrieval as Body).bond = 2_000_000_000),
        {
          parameter: "retrieval.bond",
          value: 2_000_000_000n,
          min: 1n,
          max: 1_000_000_000n,
          contract: "RetrievalChallenges",
          error: "RetrievalParameterOutOfBounds",
        },
      ],
      [
        "a zero retrieval bond cap",
        (b) => (b.maxRetrievalBond = 0),
        {
          parameter: "maxRetrievalBond",
          value: 0n,
          min: 1n,
          max: (1n << 128n) - 1n,
          contract: "RetrievalChallenges",
          error: "RetrievalParameterOutOfBounds",
        },
      ],
      [
        "a zero close bounty",
        (b) => ((b.compute as Body).closeBounty = 0),
        {
          parameter: "compute.closeBounty",
          value: 0n,
          min: 1n,
          max: 100_000_000n,
          contract: "ComputeMarket",
          error: "ComputeParameterOutOfBounds",
        },
      ],
    ];
    for (const [what, edit, expected] of cases) {
      it(`rejects ${what} with the contract's bound (${expected.parameter})`, async function () {
        expect(await violationsOf(await localWith(edit))).to.deep.equal([expected]);
      });
    }

    it("reports every contract that rejects a value in the same step", async function () {
      const file = await localWith((b) => {
        (b.market as Body).proofWindow = 10;
        (b.compute as Body).heartbeatPeriod = 10;
      });
      const violations = await violationsOf(file);
      expect(violations.map((v) => [v.parameter, v.min])).to.have.deep.members([
        ["market.proofWindow", 30n],
        ["compute.heartbeatPeriod", 60n],
      ]);
    });

    it("rehearses with a token that Hardhat's account 0 created where the rehearsal would deploy", async function () {
      // The address of account 0's second contract: the rehearsal's deployer is account 0 too.
      const token = getCreateAddress({ from: devAccountWallet(0).address, nonce: 1 });
      const rehearsal = await rehearseDeployment(hre, await testnetFile("sepolia.json", { token }));
      expect(rehearsal.handover.every((c) => c.ok)).to.equal(true);
    });

    it("decodes Ignition's report of a custom error", function () {
      const message =
        'Simulating the transaction failed with error: Reverted with custom error MarketParameterOutOfBounds("proofWindow", 10, 30, 3600)';
      expect(parseIgnitionCustomError(message)).to.deep.equal({
        name: "MarketParameterOutOfBounds",
        args: ["proofWindow", 10n, 30n, 3600n],
      });
      expect(parseIgnitionCustomError("Reverted without reason")).to.equal(undefined);
    });
  });
});
