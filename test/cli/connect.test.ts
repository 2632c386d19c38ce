import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectChain } from "../../offchain/sdk/chain/connect.js";
import { expectCode, startFakeRpc, startServer, type TestServer } from "./helpers/httpServer.js";

async function deploymentFile(dir: string): Promise<string> {
  const file = join(dir, "deployed_addresses.json");
  await writeFile(
    file,
    JSON.stringify({
      "StrataLocal#TestStablecoin": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      "StrataLocal#ProviderRegistry": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
      "StrataLocal#StorageMarket": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    }),
  );
  return file;
}

describe("chain connection", () => {
  let dir: string;
  const servers: TestServer[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-connect-"));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it("reports RPC_UNREACHABLE when nothing listens", async () => {
    const closed = await startServer(() => undefined);
    await closed.close();
    await expectCode(connectChain({ rpcUrl: closed.url, timeoutMs: 2000 }), "RPC_UNREACHABLE");
  });

  it("reports RPC_UNREACHABLE when the endpoint hangs past the timeout", async () => {
    const hanging = await startServer(() => new Promise(() => undefined));
    servers.push(hanging);
    await expectCode(connectChain({ rpcUrl: hanging.url, timeoutMs: 200 }), "RPC_UNREACHABLE");
  });

  it("reports RPC_UNREACHABLE when the endpoint is not JSON-RPC", async () => {
    const web = await startServer((_req, res) => {
      res.end("<html>hello</html>");
    });
    servers.push(web);
    await expectCode(connectChain({ rpcUrl: web.url }), "RPC_UNREACHABLE");
  });

  it("reports DEPLOYMENT_NOT_FOUND when the chain has no address file", async () => {
    const rpc = await startFakeRpc({ chainId: 31337n, code: "0x" });
    servers.push(rpc);
    await expectCode(
      connectChain({ rpcUrl: rpc.url, deploymentFile: join(dir, "none.json") }),
      "DEPLOYMENT_NOT_FOUND",
    );
  });

  it("reports WRONG_NETWORK when the deployment's contracts have no code on the chain", async () => {
    const rpc = await startFakeRpc({ chainId: 31337n, code: "0x" });
    servers.push(rpc);
    await expectCode(
      connectChain({ rpcUrl: rpc.url, deploymentFile: await deploymentFile(dir) }),
      "WRONG_NETWORK",
    );
  });

  it("connects when the contracts exist, with the chain id and typed contracts", async () => {
    const rpc = await startFakeRpc({ chainId: 31337n, code: "0x6080" });
    servers.push(rpc);
    const chain = await connectChain({ rpcUrl: rpc.url, deploymentFile: await deploymentFile(dir) });
    try {
      expect(chain.chainId).to.equal(31337n);
      expect(await chain.market.getAddress()).to.equal(chain.deployment.market);
    } finally {
      chain.provider.destroy();
    }
  });
});
