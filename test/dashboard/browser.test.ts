/** The browser tests never skip silently: without Chromium they fail and say how to install it. */
import { expect } from "chai";
import { launchChromium } from "./browser.js";

describe("dashboard browser harness", function () {
  it("test_launch_missingChromium: fails with the command that installs it", async function () {
    let error: unknown;
    try {
      await launchChromium({ javaScript: true, executablePath: "/nonexistent/chromium" });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message)
      .to.include("/nonexistent/chromium")
      .and.include("apt-get install -y chromium");
  });
});
