import { expect } from "chai";
import { silentLogger } from "../../offchain/runtime/logger.js";
import { createRpcProvider, openRpcProvider, waitForChainId } from "../../offchain/runtime/rpc/connect.js";
import { MAX_RESPONSE_BYTES, RpcProvider } from "../../offchain/runtime/rpc/provider.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { startRpcProxy, type RpcProxy } from "./rpcProxy.js";

const RETRY = { attempts: 3, baseMs: 10, maxMs: 50, timeoutMs: 2000 };

describe("opening the RPC connection", function () {
  this.timeout(30_000);
  let proxy: RpcProxy;
  const providers: RpcProvider[] = [];

  beforeEach(async function () {
    proxy = await startRpcProxy((method) =>
      Promise.resolve(method === "eth_chainId" ? "0x539" : Array.from({ length: 8 }, () => "x".repeat(1000))),
    );
  });

  afterEach(async function () {
    for (const provider of providers.splice(0)) provider.destroy();
    await proxy.close();
  });

  it("test_waitForChainId_retries: waits while the endpoint is down, then reads the chain id", async function () {
    proxy.mode = "refuse";
    const sleeps: number[] = [];
    const chainId = await waitForChainId({
      url: proxy.url,
      retry: RETRY,
      logger: silentLogger(),
      sleep: (ms) => {
        sleeps.push(ms);
        proxy.mode = "ok"; // the node comes up during the first pause
        return Promise.resolve();
      },
    });
    expect(chainId).to.equal(1337n);
    expect(sleeps).to.have.length(1);
    expect(proxy.requests.get("eth_chainId")).to.equal(2);
  });

  it("test_waitForChainId_unreachable: RPC_UNREACHABLE (the probe's own error) once the tries run out", async function () {
    proxy.mode = "error500";
    const error = await waitForChainId({
      url: proxy.url,
      retry: RETRY,
      logger: silentLogger(),
      sleep: () => Promise.resolve(),
    }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StrataError).with.property("code", "RPC_UNREACHABLE");
    expect(proxy.requests.get("eth_chainId")).to.equal(RETRY.attempts);
  });

  it("test_openRpcProvider: the runtime transport on the probed chain, logs capped as asked", async function () {
    const { chainId, provider } = await openRpcProvider({
      url: proxy.url,
      retry: RETRY,
      pollingIntervalMs: 1000,
      logger: silentLogger(),
      maxLogsResponseBytes: 4096,
    });
    providers.push(provider);
    expect(chainId).to.equal(1337n);
    expect(provider).to.be.instanceOf(RpcProvider);
    expect((await provider.getNetwork()).chainId).to.equal(1337n);
    const tooLarge: unknown = await provider.send("eth_getLogs", [{}]).catch((e: unknown) => e);
    expect(tooLarge).to.be.instanceOf(StrataError).with.property("code", "RPC_RESPONSE_TOO_LARGE");
    const roomy = createRpcProvider(
      { url: proxy.url, pollingIntervalMs: 1000, maxLogsResponseBytes: MAX_RESPONSE_BYTES },
      chainId,
    );
    providers.push(roomy);
    expect(await roomy.send("eth_getLogs", [{}])).to.have.length(8);
  });
});
