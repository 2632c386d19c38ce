import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  canonicalJson,
  MAX_WORKLOAD_BYTES,
  parseWorkload,
  parseWorkloadJson,
  readWorkloadFile,
  totalResources,
  validateWorkload,
  WorkloadInvalidError,
  workloadHash,
} from "../../offchain/sdk/compute/workload.js";
import { StrataError } from "../../offchain/sdk/errors.js";

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return error instanceof StrataError ? error.code : "not a StrataError";
  }
  return undefined;
}

function problemPaths(input: unknown): string[] {
  const result = validateWorkload(input);
  return result.ok ? [] : result.problems.map((p) => p.path);
}

const BACKEND = {
  version: 2,
  services: {
    api: {
      run: { kind: "node", script: "require('http').createServer((q, r) => r.end('ok')).listen(8080);" },
      files: { "config/app.json": '{"greeting":"héllo \\"world\\""}' },
      env: { GREETING: "hi" },
      resources: { cpuMillicores: 500, memoryMiB: 256 },
      expose: [8080],
      health: { port: 8080, path: "/health", intervalSeconds: 5, timeoutSeconds: 2, failures: 3 },
      volumes: { data: "/data" },
      restart: "on-failure",
    },
    worker: {
      run: { kind: "command", command: ["sh", "-c", "sleep 1000"] },
      resources: { cpuMillicores: 250, memoryMiB: 64 },
      restart: "always",
    },
  },
  volumes: { data: { sizeMiB: 64 } },
  pricing: { maxPricePerHour: "1.5", deposit: "10" },
};

describe("compute workload manifests (v2)", function () {
  describe("canonical JSON and hash (vectors)", function () {
    it("sorts keys at every level, drops whitespace and hashes the UTF-8 bytes with keccak256", function () {
      const manifest = parseWorkload(BACKEND);
      const canonical = canonicalJson(manifest);
      expect(
        canonical.startsWith('{"pricing":{"deposit":"10","maxPricePerHour":"1.5"},"services":{"api":{'),
      ).to.equal(true);
      expect(canonical).to.not.match(/\s"|":\s/);
      expect(workloadHash(manifest)).to.equal(keccak256(toUtf8Bytes(canonical)));
      expect(workloadHash(manifest)).to.equal(HASH_VECTOR);
    });

    it("hashes the same whatever the key order or formatting of the source", function () {
      const reordered = JSON.parse(JSON.stringify(BACKEND, Object.keys(BACKEND).reverse())) as unknown;
      const text = JSON.stringify(BACKEND, null, 4);
      expect(workloadHash(parseWorkloadJson(text))).to.equal(workloadHash(parseWorkload(BACKEND)));
      expect(reordered).to.not.deep.equal(undefined);
    });

    it("canonical JSON refuses floats and non-JSON values", async function () {
      expect(await codeOf(() => canonicalJson({ a: 1.5 }))).to.equal("WORKLOAD_INVALID");
      expect(await codeOf(() => canonicalJson({ a: () => 1 }))).to.equal("WORKLOAD_INVALID");
    });
  });

  describe("validation", function () {
    it("accepts a full manifest and sums what it needs from the order", function () {
      expect(totalResources(parseWorkload(BACKEND))).to.deep.equal({
        cpuMillicores: 750,
        memoryMiB: 320,
        diskMiB: 64,
      });
    });

    it("refuses an undeclared volume, a health check on an unexposed port and a port exposed twice", function () {
      const bad = structuredClone(BACKEND) as Record<string, unknown> & typeof BACKEND;
      (bad.services.api.volumes as Record<string, string>) = { cache: "/data/cache" };
      (bad.services.api.health as { port: number }).port = 9090;
      (bad.services.worker as Record<string, unknown>).expose = [8080];
      expect(problemPaths(bad)).to.include.members([
        "services.api.volumes.cache",
        "services.api.health.port",
        "services.worker.expose",
      ]);
    });

    it("refuses paths that escape the service directory or mount over the system", function () {
      const bad = structuredClone(BACKEND);
      (bad.services.api.files as Record<string, string>) = {
        "../etc/passwd": "x",
        "/abs": "y",
        "ok/../../z": "w",
      };
      (bad.services.api.volumes as Record<string, string>) = { data: "/usr/lib" };
      const paths = problemPaths(bad);
      expect(paths.some((p) => p.startsWith("services.api.files"))).to.equal(true);
      expect(paths).to.include("services.api.volumes.data");
    });

    it("refuses reserved service names, v1 manifests, unknown fields and bad price terms", function () {
      expect(problemPaths({ ...BACKEND, services: { logs: BACKEND.services.worker } })).to.include(
        "services",
      );
      expect(
        problemPaths({ version: 1, kind: "node", script: "1", limits: { cpuMillicores: 1, memoryMiB: 16 } }),
      ).to.include("version");
      expect(problemPaths({ ...BACKEND, extra: 1 })).to.have.length.greaterThan(0);
      expect(
        problemPaths({ ...BACKEND, pricing: { maxPricePerHour: "1e3", deposit: "-1" } }),
      ).to.include.members(["pricing.maxPricePerHour", "pricing.deposit"]);
      expect(problemPaths({ ...BACKEND, volumes: { data: { sizeMiB: 1 } } })).to.include(
        "volumes.data.sizeMiB",
      );
    });

    it("refuses a manifest over the size limit with WORKLOAD_INVALID listing the problem", async function () {
      const big = structuredClone(BACKEND);
      big.services.api.run.script = "x".repeat(MAX_WORKLOAD_BYTES);
      const result = validateWorkload(big);
      expect(result.ok).to.equal(false);
      expect(await codeOf(() => parseWorkload(big))).to.equal("WORKLOAD_INVALID");
      try {
        parseWorkload({ version: 2, services: {} });
      } catch (error) {
        expect(error).to.be.instanceOf(WorkloadInvalidError);
        expect((error as WorkloadInvalidError).problems.map((p) => p.path)).to.include("services");
      }
    });
  });

  describe("files", function () {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "strata-workload-"));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("inlines a service's scriptFile so the hash commits to the exact code", async function () {
      await writeFile(join(dir, "server.js"), "console.log('served');\n");
      const json = structuredClone(BACKEND) as unknown as {
        services: { api: { run: Record<string, unknown> } };
      };
      json.services.api.run = { kind: "node", scriptFile: "server.js" };
      await writeFile(join(dir, "w.json"), JSON.stringify(json));
      const manifest = await readWorkloadFile(join(dir, "w.json"));
      expect(manifest.services.api?.run).to.deep.equal({ kind: "node", script: "console.log('served');\n" });
    });

    it("says FILE_NOT_FOUND for a missing file and WORKLOAD_INVALID for bad JSON", async function () {
      expect(await codeOf(() => readWorkloadFile(join(dir, "none.json")))).to.equal("FILE_NOT_FOUND");
      await writeFile(join(dir, "bad.json"), "{");
      expect(await codeOf(() => readWorkloadFile(join(dir, "bad.json")))).to.equal("WORKLOAD_INVALID");
    });
  });
});

const HASH_VECTOR = "0x5af22e958239e7f4aa276e14f4a5890990aa6d0d842da8c08091c6be0513f018";
