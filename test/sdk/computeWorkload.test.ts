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

const COMMAND = {
  version: 1,
  kind: "command",
  command: ["python3", "-m", "http.server", "8080"],
  env: { PORT: "8080", GREETING: 'héllo "world"' },
  limits: { memoryMiB: 512, cpuMillicores: 500, maxSeconds: 3600 },
};

describe("compute workload descriptions", function () {
  describe("canonical JSON and hash (vectors)", function () {
    it("sorts keys at every level, drops whitespace and hashes the UTF-8 bytes with keccak256", function () {
      const workload = parseWorkload(COMMAND);
      const canonical =
        '{"command":["python3","-m","http.server","8080"],"env":{"GREETING":"héllo \\"world\\"","PORT":"8080"},' +
        '"kind":"command","limits":{"cpuMillicores":500,"maxSeconds":3600,"memoryMiB":512},"version":1}';
      expect(canonicalJson(workload)).to.equal(canonical);
      expect(workloadHash(workload)).to.equal(keccak256(toUtf8Bytes(canonical)));
      expect(workloadHash(workload)).to.equal(
        "0x1b17adbf204476a9972d21d14f046094c05b021ef36ae8a94a54a21a115a95f4",
      );
    });

    it("hashes a node workload the same whatever the key order or formatting of its source", function () {
      const a = parseWorkloadJson(
        '{ "limits": { "cpuMillicores": 250, "memoryMiB": 128 }, "script": "console.log(\'hi\')\\n", "kind": "node", "version": 1 }',
      );
      const b = parseWorkload({
        version: 1,
        kind: "node",
        script: "console.log('hi')\n",
        limits: { memoryMiB: 128, cpuMillicores: 250 },
      });
      expect(canonicalJson(a)).to.equal(
        '{"kind":"node","limits":{"cpuMillicores":250,"memoryMiB":128},"script":"console.log(\'hi\')\\n","version":1}',
      );
      expect(workloadHash(a)).to.equal(workloadHash(b));
      expect(workloadHash(a)).to.equal("0xeb31c3c434d8a64d1872b80e47f92c84eea40dcfe5280c7d8bc4da133f71afb7");
    });

    it("changes the hash when anything that runs changes", function () {
      const base = workloadHash(parseWorkload(COMMAND));
      expect(
        workloadHash(parseWorkload({ ...COMMAND, command: ["python3", "-m", "http.server", "8081"] })),
      ).to.not.equal(base);
      expect(workloadHash(parseWorkload({ ...COMMAND, env: { PORT: "8080" } }))).to.not.equal(base);
      expect(
        workloadHash(parseWorkload({ ...COMMAND, limits: { ...COMMAND.limits, memoryMiB: 513 } })),
      ).to.not.equal(base);
    });

    it("refuses values canonical JSON cannot hold (floats, undefined functions)", async function () {
      expect(await codeOf(() => canonicalJson({ a: 1.5 }))).to.equal("WORKLOAD_INVALID");
      expect(await codeOf(() => canonicalJson({ a: () => 1 }))).to.equal("WORKLOAD_INVALID");
      expect(canonicalJson({ b: undefined, a: [true, null] })).to.equal('{"a":[true,null]}');
    });
  });

  describe("validation", function () {
    it("accepts the two kinds and keeps only known fields", function () {
      expect(validateWorkload(COMMAND).ok).to.equal(true);
      const node = parseWorkload({
        version: 1,
        kind: "node",
        script: "1",
        limits: { cpuMillicores: 1, memoryMiB: 16 },
      });
      expect(node).to.deep.equal({
        version: 1,
        kind: "node",
        script: "1",
        limits: { cpuMillicores: 1, memoryMiB: 16 },
      });
    });

    it("reports every problem with the field's path", function () {
      expect(
        problemPaths({
          version: 2,
          kind: "command",
          command: ["", 3],
          env: { "1BAD": "x", OK: 5 },
          limits: { cpuMillicores: 0, memoryMiB: 1.5, maxSeconds: -1, gpu: 1 },
          extra: true,
        }),
      ).to.have.members([
        "version",
        "extra",
        "command[0]",
        "command[1]",
        "env.1BAD",
        "env.OK",
        "limits.gpu",
        "limits.cpuMillicores",
        "limits.memoryMiB",
        "limits.maxSeconds",
      ]);
    });

    it("rejects a missing kind, missing argv or script, and fields of the other kind", function () {
      expect(problemPaths({ version: 1, limits: { cpuMillicores: 1, memoryMiB: 16 } })).to.deep.equal([
        "kind",
      ]);
      expect(
        problemPaths({ version: 1, kind: "command", limits: { cpuMillicores: 1, memoryMiB: 16 } }),
      ).to.deep.equal(["command"]);
      expect(
        problemPaths({ version: 1, kind: "node", script: " ", limits: { cpuMillicores: 1, memoryMiB: 16 } }),
      ).to.deep.equal(["script"]);
      expect(
        problemPaths({
          version: 1,
          kind: "node",
          script: "1",
          command: ["x"],
          limits: { cpuMillicores: 1, memoryMiB: 16 },
        }),
      ).to.deep.equal(["command"]);
      expect(problemPaths([1, 2])).to.deep.equal([""]);
      expect(problemPaths({ ...COMMAND, limits: undefined })).to.deep.equal(["limits"]);
    });

    it("rejects NUL characters and a description larger than the cap", function () {
      expect(problemPaths({ ...COMMAND, command: ["a\0b"] })).to.deep.equal(["command[0]"]);
      expect(problemPaths({ ...COMMAND, env: { A: "x\0" } })).to.deep.equal(["env.A"]);
      const big = {
        version: 1,
        kind: "node",
        script: "x".repeat(MAX_WORKLOAD_BYTES),
        limits: { cpuMillicores: 1, memoryMiB: 16 },
      };
      expect(problemPaths(big)).to.deep.equal([""]);
    });

    it("throws WORKLOAD_INVALID carrying the problems", async function () {
      let error: unknown;
      try {
        parseWorkload({ version: 1, kind: "docker" });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(WorkloadInvalidError);
      expect((error as WorkloadInvalidError).code).to.equal("WORKLOAD_INVALID");
      expect((error as WorkloadInvalidError).problems.map((p) => p.path)).to.deep.equal(["kind", "limits"]);
      expect(await codeOf(() => parseWorkloadJson("{not json"))).to.equal("WORKLOAD_INVALID");
    });
  });

  describe("workload files", function () {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), "strata-workload-"));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("inlines a node scriptFile next to the JSON, so the hash commits to the code", async function () {
      await writeFile(join(dir, "job.js"), "console.log('hi')\n");
      await writeFile(
        join(dir, "job.json"),
        JSON.stringify({
          version: 1,
          kind: "node",
          scriptFile: "job.js",
          limits: { cpuMillicores: 250, memoryMiB: 128 },
        }),
      );
      const workload = await readWorkloadFile(join(dir, "job.json"));
      expect(workload).to.deep.equal({
        version: 1,
        kind: "node",
        script: "console.log('hi')\n",
        limits: { cpuMillicores: 250, memoryMiB: 128 },
      });
      expect(workloadHash(workload)).to.equal(
        "0xeb31c3c434d8a64d1872b80e47f92c84eea40dcfe5280c7d8bc4da133f71afb7",
      );
    });

    it("reports missing files and conflicting script fields by code", async function () {
      expect(await codeOf(() => readWorkloadFile(join(dir, "none.json")))).to.equal("FILE_NOT_FOUND");
      await writeFile(
        join(dir, "gone.json"),
        JSON.stringify({
          version: 1,
          kind: "node",
          scriptFile: "gone.js",
          limits: { cpuMillicores: 1, memoryMiB: 16 },
        }),
      );
      expect(await codeOf(() => readWorkloadFile(join(dir, "gone.json")))).to.equal("FILE_NOT_FOUND");
      await writeFile(
        join(dir, "both.json"),
        JSON.stringify({
          version: 1,
          kind: "node",
          script: "1",
          scriptFile: "job.js",
          limits: { cpuMillicores: 1, memoryMiB: 16 },
        }),
      );
      expect(await codeOf(() => readWorkloadFile(join(dir, "both.json")))).to.equal("WORKLOAD_INVALID");
      await writeFile(join(dir, "bad.json"), "{");
      expect(await codeOf(() => readWorkloadFile(join(dir, "bad.json")))).to.equal("WORKLOAD_INVALID");
    });
  });
});
