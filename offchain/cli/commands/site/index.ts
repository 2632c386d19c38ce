/**
 * `strata site ...`: publish a website. `deploy` stores a folder as public content (with, optionally, a backend
 * workload run as a compute lease) and posts a signed version record to the providers holding it, which serve the
 * site at `/v1/sites/<id>/`; `update` publishes the next version (only changed files stored); `status` asks the
 * providers; `rm` posts a tombstone, closes the backend lease and removes the stored files. The site id is
 * keccak256(owner, name): one address across versions.
 */
import type { Command } from "commander";
import type { Runner } from "../../runner.js";
import { registerSiteDeploy, registerSiteUpdate } from "./deploy.js";
import { registerSiteRemove } from "./rm.js";
import { registerSiteStatus } from "./status.js";

export function registerSiteCommands(program: Command, run: Runner): void {
  const site = program
    .command("site")
    .description(
      "publish a website: static files as public content, a backend as a compute lease, one signed address",
    );
  registerSiteDeploy(site, run);
  registerSiteUpdate(site, run);
  registerSiteStatus(site, run);
  registerSiteRemove(site, run);
}
