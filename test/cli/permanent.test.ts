/**
 * `strata store --permanent` through the real binary against a real local node with the suite deployed (its
 * PermanentStorage: k = 2 of n = 3) and one provider agent taking permanent pieces: `--dry-run` only quotes (the
 * contract's quote to the base unit, nothing paid); without `--yes` the quote is shown and the answer read from
 * stdin: "n" pays nothing (STORE_DECLINED), "y" pays exactly the quote once and hands every piece to the agent.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { PermanentStorage__factory, TestStablecoin__factory } from "../../typechain-types/index.js";
import { enablePermanent } from "../../scripts/demo/agentsConfig.js";
import { repoRoot } from "../../offchain/sdk/chain/deployment.js";
import { permanentGeometry } from "../../offchain/sdk/durability/permanent.js";
import { startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
import {
  catalogPathFor,
  devAddress,
  startAgents,
  strataCli,
  type RunningAgent,
} from "../../scripts/lib/localProcesses.js";

const ROOT = repoRoot();
const NODE = path.join(ROOT, "node_modules", ".bin", "node");
const STRATA = path.join(ROOT, "offchain", "cli", "strata.mjs");
const CLIENT_ACCOUNT = 4;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("strata store --permanent (the binary)", function () {
  this.timeout(300_000);
  let chain: LocalChain;
  let agent: RunningAgent | undefined;

  /** Run the binary as the client, writing `input` to its stdin. */
  function strata(args: string[], input = ""): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        NODE,
        [
          STRATA,
          "--rpc",
          chain.rpcUrl,
          "--deployment",
          chain.deploymentFile,
          "--account",
          String(CLIENT_ACCOUNT),
          ...args,
        ],
        { cwd: ROOT, env: { PATH: process.env.PATH ?? "", STRATA_CATALOG: catalogPathFor(chain) } },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => {
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(input);
    });
  }

  before(async function () {
    chain = await startLocalChain();
    [agent] = await startAgents(chain, [1], {
      configure: (config, index) => {
        enablePermanent(config, index);
      },
    });
    await strataCli(chain)(["dev", "mint", "100", "--to", devAddress(CLIENT_ACCOUNT)], 0);
  });

  after(async function () {
    if (agent !== undefined) await stopProcess(agent.process);
    await chain.stop();
  });

  it("quotes with --dry-run, pays nothing on a no, pays the quote once on a yes and stages every piece", async function () {
    const perm = PermanentStorage__factory.connect(permanentAddress(chain), chain.provider);
    const token = TestStablecoin__factory.connect(chain.addresses.token, chain.provider);
    const client = devAddress(CLIENT_ACCOUNT);
    const file = path.join(chain.workDir, "keep.bin");
    writeFileSync(file, randomBytes(20_000));
    const { pieceSpan } = permanentGeometry(20_000, 2);
    const [principal, fee] = await perm.quote(pieceSpan);
    const before = await token.balanceOf(client);

    const dry = await strata(["--json", "store", "--permanent", file, "--dry-run"]);
    expect(dry.code, dry.stderr).to.equal(0);
    const quoted = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      total: string;
      files: { quote: { principal: string; fee: string; n: number; horizonYears: number } }[];
    };
    expect(quoted.dryRun).to.equal(true);
    expect(quoted.total).to.equal((principal + fee).toString());
    expect(quoted.files[0]?.quote).to.include({
      principal: principal.toString(),
      fee: fee.toString(),
      n: 3,
      horizonYears: 200,
    });
    const human = await strata(["store", "--permanent", file, "--dry-run"]);
    expect(human.stdout).to.match(/one-time price .+ = principal .+ \+ fee/);
    expect(human.stdout).to.match(/covers 200 years .+ assuming storage costs fall 0\.5% a year/);
    expect(await perm.fileCount()).to.equal(0n);

    const declined = await strata(["store", "--permanent", file], "n\n");
    expect(declined.code).to.equal(1);
    expect(declined.stderr).to.match(/Pay .+ once\? \[y\/N\]/);
    expect(declined.stderr).to.match(/\(STORE_DECLINED\)/);
    expect(await perm.fileCount()).to.equal(0n);
    expect(await token.balanceOf(client)).to.equal(before);

    const paid = await strata(["--json", "store", "--permanent", file], "y\n");
    expect(paid.code, paid.stderr).to.equal(0);
    const out = JSON.parse(paid.stdout) as {
      files: { fileId: string; paid: string; staged: { provider: string }[]; needed: number }[];
    };
    const stored = out.files[0];
    expect(stored?.paid).to.equal((principal + fee).toString());
    expect(stored?.needed).to.equal(3);
    expect(stored?.staged.map((s) => s.provider)).to.deep.equal([
      agent?.address,
      agent?.address,
      agent?.address,
    ]);
    expect(await token.balanceOf(client)).to.equal(before - principal - fee);
    expect(await perm.fileCount()).to.equal(1n);
    for (const index of [0, 1, 2]) {
      const staged = await fetch(
        `${agent?.endpoint ?? ""}/v1/permanent/${stored?.fileId ?? ""}/pieces/${index}`,
      );
      expect(staged.status).to.equal(200);
    }
  });

  it("withdraw --from permanent --abandon refunds a file still pending after 30 days; balance shows what is owed", async function () {
    const perm = PermanentStorage__factory.connect(permanentAddress(chain), chain.provider);
    const token = TestStablecoin__factory.connect(chain.addresses.token, chain.provider);
    const client = devAddress(CLIENT_ACCOUNT);
    const signer = await chain.provider.getSigner(client);
    // Paid on chain but never handed to an agent: no provider can place it, so it stays pending.
    const { pieceSpan } = permanentGeometry(5_000, 2);
    const [principal, fee] = await perm.quote(pieceSpan);
    await (await token.connect(signer).approve(await perm.getAddress(), principal + fee)).wait();
    await (
      await perm.connect(signer).storePermanent(`0x${"ab".repeat(32)}`, pieceSpan, principal + fee)
    ).wait();
    const fileId = await perm.fileCount();

    const early = await strata(["--json", "withdraw", "--from", "permanent", "--abandon", String(fileId)]);
    expect(early.code).to.equal(1);
    expect(JSON.parse(early.stdout)).to.nested.include({ "error.code": "INVALID_ARGUMENT" });
    expect(early.stdout).to.match(/abandoned only 30 days after it was paid/);
    const unknown = await strata(["--json", "withdraw", "--from", "permanent", "--abandon", "999"]);
    expect(JSON.parse(unknown.stdout)).to.nested.include({ "error.code": "INVALID_ARGUMENT" });
    expect(unknown.stdout).to.match(/there is no permanent file 999/);
    const misplaced = await strata(["--json", "withdraw", "--abandon", String(fileId)]);
    expect(misplaced.code).to.equal(1);
    expect(misplaced.stdout).to.match(/--abandon goes with --from permanent/);
    const badList = await strata(["withdraw", "--from", "permanent", "--abandon", "1,x"]);
    expect(badList.code).to.equal(1);
    expect(badList.stderr).to.match(/expected positive integer ids/);

    await chain.advance(31 * 86_400);
    const before = await token.balanceOf(client);
    const withdrawn = await strata([
      "--json",
      "withdraw",
      "--from",
      "permanent",
      "--abandon",
      String(fileId),
    ]);
    expect(withdrawn.code, withdrawn.stderr).to.equal(0);
    const out = JSON.parse(withdrawn.stdout) as {
      abandoned: { fileId: string; refund: string; txHash: string }[];
      withdrawn: string;
    };
    expect(out.abandoned).to.deep.equal([
      { fileId: fileId.toString(), refund: principal.toString(), txHash: out.abandoned[0]?.txHash },
    ]);
    expect(out.withdrawn).to.equal(principal.toString());
    expect(await token.balanceOf(client)).to.equal(before + principal);
    expect((await perm.file(fileId)).status).to.equal(4n); // Abandoned

    const again = await strata(["--json", "withdraw", "--from", "permanent"]);
    expect(again.code).to.equal(1);
    expect(again.stdout).to.match(/permanent storage owes this account nothing/);
    const balance = JSON.parse((await strata(["--json", "balance"])).stdout) as { permanentOwed?: string };
    expect(balance.permanentOwed).to.equal("0");
  });
});

function permanentAddress(chain: LocalChain): string {
  const raw = JSON.parse(readFileSync(chain.deploymentFile, "utf8")) as Record<string, string | undefined>;
  const address = raw["StrataLocal#PermanentStorage"];
  if (address === undefined) throw new Error(`no PermanentStorage in ${chain.deploymentFile}`);
  return address;
}
