import { expect } from "chai";
import { parseDeployment } from "../../offchain/sdk/chain/deployment.js";
import { ProviderRejectedError } from "../../offchain/sdk/client/agentClient.js";
import { agentLeaseView, sendWorkload } from "../../offchain/sdk/compute/agentApi.js";
import { computeMarketOf } from "../../offchain/sdk/compute/market.js";
import {
  canonicalJson,
  workloadHash,
  type WorkloadDescription,
} from "../../offchain/sdk/compute/workload.js";
import { StrataError } from "../../offchain/sdk/errors.js";
import { expectCode, sendJson, startServer, type TestServer } from "../cli/helpers/httpServer.js";

const WORKLOAD: WorkloadDescription = {
  version: 2,
  services: {
    main: {
      run: { kind: "command", command: ["sleep", "60"] },
      resources: { cpuMillicores: 100, memoryMiB: 64 },
      restart: "never",
    },
  },
};

const SUITE = {
  "StrataLocal#TestStablecoin": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  "StrataLocal#ProviderRegistry": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  "StrataLocal#StorageMarket": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
};
const COMPUTE = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9";

describe("compute client: deployment, agent routes", function () {
  const servers: TestServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it("reads the compute market from a deployment when present, and says when it is not", function () {
    const withCompute = parseDeployment(
      { ...SUITE, "StrataLocal#ComputeMarket": COMPUTE.toLowerCase() },
      "x.json",
    );
    expect(withCompute.computeMarket).to.equal(COMPUTE);
    const without = parseDeployment(SUITE, "old.json");
    expect(without.computeMarket).to.equal(undefined);
    let code: string | undefined;
    try {
      computeMarketOf(without, null);
    } catch (error) {
      code = (error as StrataError).code;
    }
    expect(code).to.equal("DEPLOYMENT_NOT_FOUND");
  });

  it("PUTs the canonical description under its hash and reads the receipt", async () => {
    const seen: { method?: string; url?: string; body?: string } = {};
    const server = await startServer((req, res, body) => {
      seen.method = req.method;
      seen.url = req.url;
      seen.body = body.toString("utf8");
      sendJson(res, 201, { hash: workloadHash(WORKLOAD), state: "stored", leases: ["7"], orders: ["7"] });
    });
    servers.push(server);
    const receipt = await sendWorkload(`${server.url}/`, WORKLOAD);
    expect(seen).to.deep.equal({
      method: "PUT",
      url: `/v1/workloads/${workloadHash(WORKLOAD)}`,
      body: canonicalJson(WORKLOAD),
    });
    expect(receipt).to.deep.equal({ hash: workloadHash(WORKLOAD), state: "stored", leases: [7n] });
  });

  it("reports a refusal with the agent's code, bad answers and unreachable agents", async () => {
    const refusing = await startServer((_req, res) => {
      sendJson(res, 404, { error: { code: "UNKNOWN_WORKLOAD", message: "no such order" } });
    });
    const garbled = await startServer((_req, res) => {
      sendJson(res, 200, { hash: 5, state: "stored", leases: [] });
    });
    servers.push(refusing, garbled);
    const refused = await expectCode(sendWorkload(refusing.url, WORKLOAD), "PROVIDER_REJECTED");
    expect(refused).to.be.instanceOf(ProviderRejectedError);
    expect(refused.agentCode).to.equal("UNKNOWN_WORKLOAD");
    await expectCode(sendWorkload(garbled.url, WORKLOAD), "PROVIDER_BAD_DATA");
    const closed = await startServer(() => undefined);
    await closed.close();
    await expectCode(sendWorkload(closed.url, WORKLOAD), "PROVIDER_UNREACHABLE");
    await expectCode(agentLeaseView(refusing.url, 7n), "PROVIDER_REJECTED");
  });

  it("reads an agent's view of a lease", async () => {
    const server = await startServer((_req, res) => {
      sendJson(res, 200, {
        id: "7",
        state: "active",
        closeReason: null,
        workloadHash: workloadHash(WORKLOAD),
        workloadReceived: true,
        runState: "running",
        runs: 1,
        lastExit: null,
        usage: { cpuMillicores: 12, rssBytes: 1024, processes: 1 },
        lastHeartbeatPeriod: "3",
        noticeGiven: false,
        endsAt: "0",
      });
    });
    servers.push(server);
    expect(await agentLeaseView(server.url, 7n)).to.deep.equal({
      state: "active",
      closeReason: null,
      workloadReceived: true,
      runState: "running",
      runs: 1,
      lastExit: null,
      usage: { cpuMillicores: 12, rssBytes: 1024, processes: 1 },
      lastHeartbeatPeriod: 3n,
    });
  });
});
