/**
 * The repair chapter of the demo: the client opened a repair mandate when it stored the file (storageStory.ts,
 * `strata mandate --share` into the worker's briefs folder). Once the challenged provider's data set has ended,
 * the worker's repair duty rebuilds the lost piece from live pieces and places it with another provider under
 * the mandate; after that provider proves a period holding it, the worker claims its reward from the budget.
 */
import { tokens } from "./summary.js";
import { RepairMandate__factory, StorageMarket__factory } from "../../typechain-types/index.js";
import type { LocalChain } from "../lib/localChain.js";
import { until, type RunningWorker } from "../lib/localProcesses.js";
import type { Progress } from "./progress.js";
import { proveThroughPeriod } from "./proving.js";

export interface RepairStoryInput {
  chain: LocalChain;
  progress: Progress;
  worker: RunningWorker;
  /** The file's repair mandate. */
  mandate: string;
  /** The providers whose agents are running: none of them may miss a period while the clock moves. */
  provers: readonly string[];
}

export interface RepairStoryResult {
  mandate: string;
  repairer: string;
  repairId: bigint;
  pieceIndex: bigint;
  provider: string;
  dataSetId: bigint;
  reward: bigint;
  providerPaid: bigint;
}

export async function runRepairStory(input: RepairStoryInput): Promise<RepairStoryResult> {
  const { chain, worker } = input;
  const p: Progress = input.progress;
  const market = StorageMarket__factory.connect(chain.addresses.market, chain.provider);
  const mandate = RepairMandate__factory.connect(input.mandate, chain.provider);

  p.step("The worker repairs the lost piece onto another provider under the client's repair mandate");
  const opened = await until(
    "the worker to open a repair",
    async () => (await mandate.queryFilter(mandate.filters.RepairOpened()))[0],
    180_000,
  );
  const { repairId, index, terms } = opened.args;
  p.check(
    opened.args.repairer.toLowerCase() === worker.address.toLowerCase(),
    "the repair was not opened by the worker",
  );
  p.detail(
    `repair ${repairId}: piece ${index} rebuilt from a live piece (no key), placed with ${terms.provider} at ` +
      `${tokens(terms.pricePerTiBMonth)} tokens per TiB-month (within the mandate's ceiling)`,
  );
  const bound = await until(
    "the worker to bind the repair data set",
    async () => (await mandate.queryFilter(mandate.filters.RepairBound(repairId)))[0],
    120_000,
  );
  const dataSetId = bound.args.dataSetId;
  p.detail(`data set ${dataSetId} (client: the mandate's wallet) holds exactly the lost piece's commitment`);
  const claimed = await until(
    "the worker to claim the repair",
    async () => {
      const events = await mandate.queryFilter(mandate.filters.RepairClaimed(repairId));
      if (events[0]) return events[0];
      // Once the claim would succeed it is the worker's to send: moving the clock on meanwhile would only spend
      // every data set's escrow on a slow machine.
      const claimable = await mandate.claimRepair.staticCall(repairId).then(
        () => true,
        () => false,
      );
      if (claimable) return undefined;
      const next = (await market.proofState(terms.provider)).nextPeriod;
      await proveThroughPeriod(chain, market, next, { required: [terms.provider], running: input.provers });
      return undefined;
    },
    240_000,
  );
  const paid = (await market.dataSet(dataSetId)).paid;
  p.check(paid > 0n, "the new provider was not paid");
  p.detail(
    `proven: reward ${tokens(claimed.args.reward)} tokens credited to the worker; the new provider was paid ` +
      `${tokens(paid)} tokens from the repair escrow`,
  );
  return {
    mandate: input.mandate,
    repairer: worker.address,
    repairId,
    pieceIndex: index,
    provider: terms.provider,
    dataSetId,
    reward: claimed.args.reward,
    providerPaid: paid,
  };
}
