/**
 * Headless Chromium for the browser tests: Debian's `chromium` (tool-managed browser downloads do not work
 * here) driven by playwright-core through its executablePath, with a fresh empty profile each time and the
 * flags that keep it from reaching out (see docs in .ci/run). A missing browser fails the test with how to
 * install it; nothing is skipped.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/** Where the browser is: $STRATA_CHROMIUM, else Debian's package. */
export const CHROMIUM = process.env.STRATA_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Flags for a root user in a container: no sandbox (needs user namespaces set up for Chromium), no GPU, and
 * no background traffic (without these it opens many outside connections, refused here, and looks up outside
 * hosts at every start).
 */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Start headless Chromium with a fresh profile; `javaScript: false` disables scripting in its pages. */
export async function launchChromium(options: {
  javaScript: boolean;
  executablePath?: string;
}): Promise<Browser> {
  const executablePath = options.executablePath ?? CHROMIUM;
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium is missing at ${executablePath}: install it (as root: apt-get update && apt-get install -y chromium; ` +
        ".ci/run does this) or point STRATA_CHROMIUM at a Chromium binary",
    );
  }
  const profile = mkdtempSync(path.join(tmpdir(), "strata-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    javaScriptEnabled: options.javaScript,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
