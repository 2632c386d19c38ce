/** Naming a site on the command line: its id (0x + 64 hex digits), or a name of the signer's. */
import { isHexString } from "ethers";
import { siteIdOf, SITE_NAME_PATTERN } from "../../../sdk/sites/record.js";
import { StrataError } from "../../../sdk/errors.js";
import type { CliContext } from "../../context.js";

export async function resolveSiteId(ctx: CliContext, ref: string): Promise<string> {
  if (isHexString(ref, 32)) return ref.toLowerCase();
  if (!SITE_NAME_PATTERN.test(ref)) {
    throw new StrataError("INVALID_ARGUMENT", `${JSON.stringify(ref)} is neither a site id nor a site name`);
  }
  const { signer } = await ctx.signed();
  return siteIdOf(await signer.getAddress(), ref);
}
