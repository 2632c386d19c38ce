/**
 * The whole story on a local chain with the real contracts, processes and CLI (`npm run demo`):
 *
 *  1. a local chain: reuses a `hardhat node` already answering at $STRATA_RPC_URL (default
 *     http://127.0.0.1:8545), else starts an embedded one on a free port;
 *  2. deploys the full suite with the StrataLocal Ignition module (timelock-held roles, bounded parameters);
 *  3. starts four provider agents and a proof-verifier worker as real processes on loopback;
 *  4-8. stores a file, proves and pays through proving periods, loses one provider's data and another
 *     provider, gets both punished by the worker, retrieves the file byte for byte;
 *  9. the worker repairs the lost piece under the client's repair mandate (see repairStory.ts);
 *  10. stores a file permanently, paid once: the agents place every piece, and it prints its solvency view
 *      (see permanentStory.ts);
 *  11. runs a compute lease story (see computeStory.ts);
 *  12. publishes a website (scripts/demo/site/) with a backend run as a compute lease (see siteStory.ts);
 *  13. prints a summary read back from the chain, the dashboard and site addresses, and shuts everything down.
 *
 * Fails loudly (exit 1, with the step and the reason) if anything does not behave as the protocol says.
 * Flags: --file <path> to store your own file, --embedded to never reuse a running node, --json to print the
 * summary as JSON on stdout (progress goes to stderr), --stay to keep the chain, agents, worker, dashboard and
 * site up until Ctrl-C, --help.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import * as ethers from "ethers";
import { devAccountWallet } from "../offchain/sdk/chain/connect.js";
import { StorageMarket__factory } from "../typechain-types/index.js";
import { stopProcess } from "./lib/localChain.js";
import {
  nodeKindFromEnv,
  attachLocalChain,
  localNodeAnswers,
  ROOT,
  startLocalChainOrCleanUp,
  type LocalChain,
} from "./lib/localChain.js";
import { startAgents, startWorker, type RunningAgent, type RunningWorker } from "./lib/localProcesses.js";
import { runComputeStory } from "./demo/computeStory.js";
import { enableCompute, enablePermanent } from "./demo/agentsConfig.js";
import { consoleProgress, DemoFailure, type Progress } from "./demo/progress.js";
import { runPermanentStory } from "./demo/permanentStory.js";
import { runRepairStory } from "./demo/repairStory.js";
import { runSiteStory } from "./demo/siteStory.js";
import { configureStorageOffer, runStorageStory } from "./demo/storageStory.js";
import { collectSummary, printSummary } from "./demo/summary.js";

const PROVIDER_ACCOUNTS = [1, 2, 3, 5];
const CLIENT_ACCOUNT = 4;
const WORKER_ACCOUNT = 6;
const TENANT_ACCOUNT = 7;
const SITE_OWNER_ACCOUNT = 8;

const HELP = `usage: npm run demo [-- --file <path>] [-- --embedded] [-- --node hardhat|anvil] [-- --json]

Runs the whole Strata story on a local chain with the real contracts, agents, worker and CLI:
storage in data sets, proofs, payments, a provider losing data and one going offline (both punished by the
worker), the file retrieved byte for byte, and a compute lease; then a summary read back from the chain.

  --file <path>   store this file instead of a generated 3 MiB one
  --embedded      always start an embedded node (default: reuse one answering at $STRATA_RPC_URL
                  or http://127.0.0.1:8545)
  --node <kind>   the embedded node: hardhat (default, or $STRATA_NODE) or anvil (Foundry's Anvil, from
                  the @foundry-rs/anvil package; implies --embedded)
  --json          print the summary as JSON on stdout (progress on stderr)
  --stay          keep the chain, agents, worker, dashboard and site up until Ctrl-C (then shut down cleanly)
  --help          this text`;

/** Check on chain that the timelock holds every role and the deployer none (the Ignition module's handover). */
async function checkRoles(chain: LocalChain, p: Progress): Promise<void> {
  const deployer = devAccountWallet(0).address;
  const roles = [ethers.ZeroHash, ethers.id("PARAMETER_ROLE"), ethers.id("PAUSER_ROLE")];
  const contracts = [
    chain.addresses.registry,
    chain.addresses.market,
    chain.addresses.retrievalChallenges,
    chain.addresses.computeMarket,
  ];
  for (const address of contracts) {
    if (address === undefined) continue;
    // Every contract here is an OpenZeppelin AccessControl: the market's ABI carries hasRole for all of them.
    const c = StorageMarket__factory.connect(address, chain.provider);
    for (const role of roles) {
      p.check(
        await c.hasRole(role, chain.addresses.timelock),
        `the timelock lacks role ${role} on ${address}`,
      );
      p.check(!(await c.hasRole(role, deployer)), `the deployer kept role ${role} on ${address}`);
    }
  }
}

/** Resolves on the first SIGINT or SIGTERM (the caller then shuts everything down). */
function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      file: { type: "string" },
      embedded: { type: "boolean", default: false },
      node: { type: "string" },
      json: { type: "boolean", default: false },
      stay: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const write = values.json
    ? (line: string) => {
        console.error(line);
      }
    : (line: string) => {
        console.log(line);
      };
  const p = consoleProgress(write);
  const started = performance.now();
  const rpcUrl = process.env.STRATA_RPC_URL ?? "http://127.0.0.1:8545";
  let chain: LocalChain | undefined;
  const agents: RunningAgent[] = [];
  let worker: RunningWorker | undefined;
  try {
    p.step("Local chain and deployment (Ignition module StrataLocal)");
    const runDir = path.join(ROOT, ".strata", "demo", new Date().toISOString().replace(/[:.]/g, "-"));
    const node =
      values.node === undefined ? nodeKindFromEnv() : nodeKindFromEnv({ STRATA_NODE: values.node });
    const reuse = !values.embedded && values.node === undefined && (await localNodeAnswers(rpcUrl));
    chain = reuse
      ? await attachLocalChain(rpcUrl, "demo", { workDir: runDir })
      : await startLocalChainOrCleanUp({ workDir: runDir, node });
    // The summary covers what happens after the deployment.
    const fromBlock = (await chain.provider.getBlockNumber()) + 1;
    p.detail(
      reuse
        ? `reusing the ${chain.node} node at ${rpcUrl}`
        : `embedded ${chain.node} node at ${chain.rpcUrl}`,
    );
    p.detail(`deployment ${chain.deploymentFile}`);
    for (const [name, address] of Object.entries(chain.addresses)) p.detail(`${name.padEnd(20)} ${address}`);
    await checkRoles(chain, p);
    p.detail("every admin, parameter and pauser role is held by the timelock; the deployer kept none");

    const logDir = path.join(runDir, "logs");
    mkdirSync(logDir, { recursive: true });
    p.step("Four provider agents and a proof-verifier worker start as real processes on loopback");
    const configure = (config: Record<string, unknown>, index: number) => {
      configureStorageOffer(config, index);
      enableCompute(config, index);
      enablePermanent(config, index);
    };
    agents.push(...(await startAgents(chain, PROVIDER_ACCOUNTS, { logDir, configure })));
    for (const a of agents) p.detail(`agent ${a.address} at ${a.endpoint} (registered, 5,000 tokens staked)`);
    worker = await startWorker(chain, WORKER_ACCOUNT, undefined, { logDir });
    p.detail(`worker ${worker.address}: /health and /metrics at ${worker.url}, dashboard at ${worker.url}/`);

    const storage = await runStorageStory({
      chain,
      progress: p,
      agents,
      worker,
      clientAccount: CLIENT_ACCOUNT,
      clientAddress: devAccountWallet(CLIENT_ACCOUNT).address,
      file: values.file ?? null,
    });
    // The agents still running (the storage story killed one): the chapters that move the clock wait for each of
    // them to prove every period it is due for.
    const provers = agents.filter((a) => a !== storage.offline).map((a) => a.address);
    const repair = await runRepairStory({ chain, progress: p, worker, mandate: storage.mandate, provers });
    // The permanent chapter waits only for the holders of the file's pieces: on a node whose clock also runs in real
    // time (Anvil), waiting for every other provider as well lets proof windows close under a slow agent.
    const permanent = await runPermanentStory({
      chain,
      progress: p,
      clientAccount: CLIENT_ACCOUNT,
      provers: [],
      // Jumping past the offer window must not close a proof window under anyone still proving.
      keepProving: provers,
    });
    const compute = await runComputeStory({
      chain,
      progress: p,
      agents: agents.filter((a) => a !== storage.offline),
      worker,
      tenantAccount: TENANT_ACCOUNT,
      logDir,
    });
    const summary = await collectSummary(
      chain,
      [
        { role: "client", address: devAccountWallet(CLIENT_ACCOUNT).address },
        { role: "tenant", address: devAccountWallet(TENANT_ACCOUNT).address },
        ...agents.map((a) => ({
          role:
            a === storage.lostData
              ? "provider (lost data)"
              : a === storage.offline
                ? "provider (went offline)"
                : a.address === compute.leaseProvider
                  ? "provider (leased compute)"
                  : "provider",
          address: a.address,
        })),
        { role: "worker (watcher)", address: worker.address },
        { role: "treasury (timelock)", address: chain.addresses.timelock },
      ],
      fromBlock,
    );
    // The website comes last, after the summary of the storage and compute stories was read back from the chain.
    // The agents still up (the compute story stopped one, the storage story another) hold the site.
    const site = await runSiteStory({
      chain,
      progress: p,
      agents: agents.filter((a) => a.process.exitCode === null && a.process.signalCode === null),
      ownerAccount: SITE_OWNER_ACCOUNT,
      workDir: runDir,
    });
    p.done();
    const where = [
      `logs: ${logDir} (agent-<n>.log, worker.log; JSON lines)`,
      `worker database: ${worker.dbPath}`,
      `agents' data: ${agents.map((a) => a.dataDir).join(", ")}`,
      ...(reuse ? [`deployment: ${chain.deploymentFile} (the node at ${rpcUrl} keeps running)`] : []),
      `stored file: ${storage.file}; manifest ${storage.manifest}; retrieved ${storage.retrieved}`,
    ];
    const dashboard = `${worker.url}/`;
    if (values.json) {
      console.log(
        JSON.stringify(
          {
            ok: true,
            seconds: Math.round((performance.now() - started) / 1000),
            ...summary,
            repair,
            permanent,
            compute,
            site,
            where,
            dashboard,
            // Where the chain answers while --stay keeps it up (for tools that look at it next).
            chain: {
              node: chain.node,
              rpcUrl: chain.rpcUrl,
              deploymentFile: chain.deploymentFile,
              addresses: chain.addresses,
            },
          },
          (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
          2,
        ),
      );
    } else {
      printSummary(summary, where, write, compute.leases);
      write(`\nDashboard (the worker's index and the chain, read-only): ${dashboard}`);
      write(`Site ${site.name} (${site.siteId}), one address per provider holding it:`);
      for (const address of site.addresses) write(`  ${address}`);
      write(`  its backend (compute lease ${site.leaseId}): ${site.backend}`);
      const next = values.stay
        ? "the chain, agents, worker, dashboard and site stay up"
        : "shutting everything down";
      write(`\nDone in ${((performance.now() - started) / 1000).toFixed(0)} s; ${next}.`);
    }
    if (values.stay) {
      write(`Open ${dashboard} or ${site.addresses[0] ?? ""} in a browser; press Ctrl-C to stop everything.`);
      await untilInterrupted();
      write("Stopping the worker, the agents and the chain.");
    }
    return 0;
  } catch (error) {
    const where = error instanceof DemoFailure ? `during "${error.step}"` : `during "${p.current}"`;
    console.error(`\nDEMO FAILED ${where}: ${error instanceof Error ? error.message : String(error)}`);
    if (worker) console.error(`worker log tail:\n${worker.log.slice(-20).join("")}`);
    return 1;
  } finally {
    if (worker) await stopProcess(worker.process);
    for (const agent of agents) await stopProcess(agent.process);
    if (chain) await chain.stop();
  }
}

process.exitCode = await main();
