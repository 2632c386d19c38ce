/**
 * `strata lease ...`: rent compute. A tenant posts an order for a workload (`order`), looks at the bids
 * (`bids`), accepts one (`accept`: the workload description goes to the winning provider's agent first), then
 * follows and funds the lease (`status`, `topup`) and ends it (`close`). The tenant updates the workload
 * (`update`: a signed new manifest version), reads its output and history (`logs`, `events`) and backs up its
 * volumes (`backup`), each authenticated by the tenant's signature. Anyone may report missed heartbeats
 * (`report`) or close an overdrawn or finished lease (`close --reason`).
 *
 * Prices are typed and shown in tokens per hour; on chain they are base units per second (a typed price is
 * rounded down to whole base units per second, so the cap is never above what was typed).
 * The workload description is kept under `.strata/workloads/<hash>.json` (in the current folder) between
 * `lease order` and `lease accept`. The rules each subcommand applies live in offchain/sdk/compute/.
 */
import type { Command } from "commander";
import type { Runner } from "../../runner.js";
import { registerLeaseAccept } from "./accept.js";
import { registerLeaseBackup } from "./backup.js";
import { registerLeaseBids } from "./bids.js";
import { registerLeaseEvents } from "./events.js";
import { registerLeaseLogs } from "./logs.js";
import { registerLeaseCancel } from "./cancel.js";
import { registerLeaseClose } from "./close.js";
import { registerLeaseList } from "./list.js";
import { registerLeaseOrder } from "./order.js";
import { registerLeaseReport } from "./report.js";
import { registerLeaseStatus } from "./status.js";
import { registerLeaseTopUp } from "./topup.js";
import { registerLeaseUpdate } from "./update.js";
import { registerLeaseUpload } from "./upload.js";
import { registerLeaseWithdraw } from "./withdraw.js";

export function registerLeaseCommands(program: Command, run: Runner): void {
  const lease = program
    .command("lease")
    .description(
      "rent compute: post an order for a workload, accept a provider's bid, follow, fund and close the lease " +
        "(prices in tokens per hour)",
    );
  // Registration order is the order `strata lease --help` lists them in.
  registerLeaseOrder(lease, run);
  registerLeaseBids(lease, run);
  registerLeaseAccept(lease, run);
  registerLeaseUpload(lease, run);
  registerLeaseStatus(lease, run);
  registerLeaseUpdate(lease, run);
  registerLeaseLogs(lease, run);
  registerLeaseEvents(lease, run);
  registerLeaseBackup(lease, run);
  registerLeaseTopUp(lease, run);
  registerLeaseClose(lease, run);
  registerLeaseCancel(lease, run);
  registerLeaseReport(lease, run);
  registerLeaseList(lease, run);
  registerLeaseWithdraw(lease, run);
}
