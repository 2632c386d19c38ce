import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CONTRACT_ENUMS,
  DealEndReason,
  kebabName,
  LeaseCloseReason,
  wordsName,
} from "../../offchain/sdk/chain/enums.js";

const BUILD_INFO = join(process.cwd(), "artifacts", "build-info");

interface AstNode {
  nodeType?: string;
  canonicalName?: string;
  members?: { name: string }[];
  [key: string]: unknown;
}

function* enumDefinitions(node: unknown): Generator<AstNode> {
  if (Array.isArray(node)) {
    for (const child of node) yield* enumDefinitions(child);
    return;
  }
  if (typeof node !== "object" || node === null) return;
  const ast = node as AstNode;
  if (ast.nodeType === "EnumDefinition") yield ast;
  for (const value of Object.values(ast)) yield* enumDefinitions(value);
}

/** Every enum declared in this project's contracts (not its dependencies), from the compiler's AST. */
function solidityEnums(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const files = readdirSync(BUILD_INFO).filter((f) => f.endsWith(".output.json"));
  expect(files, "no compiler output: run `npx hardhat build`").to.not.have.length(0);
  for (const file of files) {
    const output = JSON.parse(readFileSync(join(BUILD_INFO, file), "utf8")) as {
      output: { sources: Record<string, { ast: unknown }> };
    };
    for (const [source, { ast }] of Object.entries(output.output.sources)) {
      if (!source.startsWith("project/contracts/") || source.startsWith("project/contracts/mocks/")) continue;
      for (const definition of enumDefinitions(ast)) {
        const name = definition.canonicalName ?? "";
        const members = (definition.members ?? []).map((m) => m.name);
        const earlier = found.get(name);
        if (earlier !== undefined) {
          expect(
            members,
            `${name} differs between build-info files: run \`npx hardhat build\``,
          ).to.deep.equal(earlier);
        }
        found.set(name, members);
      }
    }
  }
  return found;
}

describe("contract enums (offchain/sdk/chain/enums.ts)", function () {
  it("test_enums_matchSolidity: the table lists every enum of the contracts, members in declaration order", function () {
    const solidity = solidityEnums();
    const table = new Map<string, readonly string[]>(Object.entries(CONTRACT_ENUMS));
    expect([...table.keys()].sort()).to.deep.equal([...solidity.keys()].sort());
    for (const [name, members] of solidity) expect(table.get(name), name).to.deep.equal(members);
  });

  it("test_enums_valuesAndNames: value, nameOf and indexOf agree with the declaration order", function () {
    expect(DealEndReason.value.RetrievalFailed).to.equal(4n);
    expect(DealEndReason.nameOf(4n)).to.equal("RetrievalFailed");
    expect(DealEndReason.nameOf(5)).to.equal("Unfunded");
    expect(DealEndReason.nameOf(6)).to.equal(undefined);
    expect(LeaseCloseReason.indexOf("InsufficientFunds")).to.equal(4);
    expect(LeaseCloseReason.value.Expired).to.equal(5n);
  });

  it("test_enums_labels: kebab and word forms of member names", function () {
    expect(kebabName("RetrievalFailed")).to.equal("retrieval-failed");
    expect(kebabName("Expired")).to.equal("expired");
    expect(wordsName("TooManyFaults")).to.equal("too many faults");
  });
});
