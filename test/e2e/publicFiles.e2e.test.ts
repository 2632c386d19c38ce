/**
 * Public files end to end with real processes (a `hardhat node`, three `strata agent start` processes, the `strata`
 * CLI): `store --public` puts a full replica with each provider, every provider serves each file by its CID at
 * /v1/files/<cid>, and `strata get <cid>` with an empty catalog finds it through the registry, checks it against
 * the CID, and still gets it, byte for byte, once a provider holding it is killed.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { publicCid } from "../../offchain/sdk/files/cid.js";
import {
  catalogPathFor,
  devAddress,
  startAgents,
  strataCli,
  until,
  type RunningAgent,
} from "../../scripts/lib/localProcesses.js";
import { startLocalChain, stopProcess, type LocalChain } from "../../scripts/lib/localChain.js";
import { configureStorageOffer } from "../../scripts/demo/storageStory.js";
import { runStrataRaw } from "./strataProcess.js";

const CLIENT = 6;

describe("e2e: public files served by CID by any provider holding them", function () {
  this.timeout(900_000);
  let chain: LocalChain;
  const agents: RunningAgent[] = [];
  let strata: ReturnType<typeof strataCli>;
  let work: string;
  const site: Record<string, Buffer> = {
    "index.html": Buffer.from("<!doctype html><title>public</title><p>served by CID</p>\n"),
    "assets/data.bin": randomBytes(700_000), // several UnixFS chunks: a dag-pb root
    "notes.txt": Buffer.from("plain text\n"),
  };
  const cids: Record<string, string> = {};
  const cidOf = (name: string): string => {
    const cid = cids[name];
    if (cid === undefined) throw new Error(`no CID for ${name}`);
    return cid;
  };

  /** Run the CLI as the client with its own catalog; resolves to exit code, stdout bytes and text, stderr. */
  async function raw(args: string[], catalog: string) {
    return runStrataRaw(chain, CLIENT, args, { catalog });
  }

  before(async function () {
    chain = await startLocalChain();
    strata = strataCli(chain);
    agents.push(...(await startAgents(chain, [1, 2, 3], { configure: configureStorageOffer })));
    await strata(["dev", "mint", "1000", "--to", devAddress(CLIENT)], 0);
    work = path.join(chain.workDir, "public");
    mkdirSync(path.join(work, "site", "assets"), { recursive: true });
    for (const [name, bytes] of Object.entries(site)) {
      writeFileSync(path.join(work, "site", name), bytes);
      cids[name] = await publicCid(bytes);
    }
  });

  after(async function () {
    for (const agent of agents) await stopProcess(agent.process);
    await chain.stop();
  });

  it("stores a folder --public as one full replica per provider, in the clear", async () => {
    const stored = await strata(
      [
        "store",
        path.join(work, "site"),
        "--public",
        "--duration",
        "12",
        "--out",
        path.join(work, "site.json"),
      ],
      CLIENT,
    );
    expect(stored.public).to.equal(true);
    const pieces = stored.pieces as { endpoint: string }[];
    expect(pieces).to.have.length(3); // the default of 3 replicas
    expect(new Set(pieces.map((p) => p.endpoint)).size).to.equal(3);
    const files = stored.files as { name: string; id: string }[];
    // a folder's files keep their paths inside it
    expect(Object.fromEntries(files.map((f) => [f.name.replace(/^site\//, ""), f.id]))).to.deep.equal(cids);
    const manifest = JSON.parse(readFileSync(path.join(work, "site.json"), "utf8")) as {
      public: boolean;
      encryption: unknown;
      coding: { algorithm: string; k: number; m: number };
    };
    expect(manifest.public).to.equal(true);
    expect(manifest.encryption).to.deep.equal({ algorithm: "none" });
    expect(manifest.coding).to.deep.include({ algorithm: "replica-v1", k: 1, m: 2 });
  });

  it("every provider serves every file at /v1/files/<cid> with its type, ETag, caching and ranges", async () => {
    for (const agent of agents) {
      for (const [name, bytes] of Object.entries(site)) {
        const url = `${agent.endpoint}/v1/files/${cidOf(name)}`;
        const answer = await until(`${name} at ${agent.endpoint}`, async () => {
          const response = await fetch(url);
          return response.status === 200 ? response : undefined;
        });
        expect(Buffer.from(await answer.arrayBuffer()).equals(bytes), name).to.equal(true);
        expect(answer.headers.get("etag")).to.equal(`"${cidOf(name)}"`);
        expect(answer.headers.get("cache-control")).to.equal("public, max-age=31536000, immutable");
      }
      const page = await fetch(`${agent.endpoint}/v1/files/${cidOf("index.html")}`, { method: "HEAD" });
      expect(page.headers.get("content-type")).to.equal("text/html; charset=utf-8");
      const ranged = await fetch(`${agent.endpoint}/v1/files/${cidOf("assets/data.bin")}`, {
        headers: { range: "bytes=262000-262999" },
      });
      expect(ranged.status).to.equal(206);
      const slice = site["assets/data.bin"]?.subarray(262_000, 263_000) ?? Buffer.alloc(1);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(slice)).to.equal(true);
    }
  });

  it("get <cid> without a manifest finds it through the registry and checks it; a range is unverified", async () => {
    const empty = path.join(work, "empty-catalog.sqlite");
    const out = path.join(work, "data.bin");
    const got = await raw(["--json", "get", cids["assets/data.bin"] ?? "", out], empty);
    expect(got.code, got.text + got.stderr).to.equal(0);
    const result = JSON.parse(got.text) as { verified: boolean; endpoint: string; bytes: number };
    expect(result.verified).to.equal(true);
    expect(result.bytes).to.equal(700_000);
    expect(readFileSync(out).equals(site["assets/data.bin"] ?? Buffer.alloc(1))).to.equal(true);

    const range = await raw(["--json", "get", cids["assets/data.bin"] ?? "", "-", "--range", "10-19"], empty);
    expect(range.code, range.stderr).to.equal(0);
    expect(range.stdout.equals(site["assets/data.bin"]?.subarray(10, 20) ?? Buffer.alloc(1))).to.equal(true);
    const rangeJson = await raw(
      ["--json", "get", cids["assets/data.bin"] ?? "", path.join(work, "range.bin"), "--range", "10-19"],
      empty,
    );
    expect((JSON.parse(rangeJson.text) as { verified: boolean }).verified).to.equal(false);

    const unknown = await raw(["--json", "get", await publicCid(randomBytes(32)), "-"], empty);
    expect(unknown.code).to.equal(2);
    const error = (JSON.parse(unknown.text) as { error: { code: string; details: string } }).error;
    expect(error.code).to.equal("PUBLIC_FILE_NOT_FOUND");
    for (const agent of agents) expect(error.details).to.include(agent.endpoint);
    const malformed = await raw(["--json", "get", "bafy-not-a-cid", "-"], empty);
    expect(malformed.code).to.not.equal(0);
  });

  it("still gets every file, byte for byte, from another provider once one holding it is killed", async () => {
    const killed = agents[0];
    if (killed === undefined) throw new Error("no agent");
    await stopProcess(killed.process, 2_000);
    for (const catalog of [path.join(work, "fresh-catalog.sqlite"), catalogPathFor(chain)]) {
      for (const [name, bytes] of Object.entries(site)) {
        const got = await raw(["get", cids[name] ?? "", "-"], catalog);
        expect(got.code, `${name}: ${got.stderr}`).to.equal(0);
        expect(got.stdout.equals(bytes), name).to.equal(true);
      }
    }
    const asked = await raw(
      ["--json", "get", cids["notes.txt"] ?? "", path.join(work, "notes.txt")],
      path.join(work, "fresh-catalog.sqlite"),
    );
    const result = JSON.parse(asked.text) as {
      endpoint: string;
      asked: { endpoint: string; outcome: string }[];
    };
    expect(result.endpoint).to.not.equal(killed.endpoint);
    expect(result.asked.find((a) => a.endpoint === killed.endpoint)?.outcome).to.equal("unreachable");
  });
});
