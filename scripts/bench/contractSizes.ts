/**
 * Bytecode sizes of every deployable contract and linked library under contracts/ (mocks excluded: tests
 * deploy them, the suite never does), from the compiled artifacts. Libraries with only internal functions are
 * inlined into their users and never deployed, so they are not listed.
 */
import type { ArtifactManager } from "hardhat/types/artifacts";
import { fixedWidth } from "./report.js";
import { INITCODE_LIMIT, RUNTIME_LIMIT, type ContractSize, type SizeSnapshot } from "./snapshot.js";

/** The fields of a Hardhat artifact that sizes need. */
export interface SizedArtifact {
  contractName: string;
  sourceName: string;
  abi: readonly unknown[];
  bytecode: string;
  deployedBytecode: string;
  linkReferences: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** A library's runtime code starts with PUSH20 <its own address, zero until deployed>: the call guard. */
const LIBRARY_PREFIX = "0x73" + "00".repeat(20);

function byteLength(hex: string): number {
  return (hex.length - (hex.startsWith("0x") ? 2 : 0)) / 2;
}

/** Sizes of the deployable contracts and linked libraries among `artifacts`, ordered by source path and name. */
export function sizesFrom(artifacts: readonly SizedArtifact[]): SizeSnapshot {
  const ours = artifacts.filter(
    (a) => a.sourceName.startsWith("contracts/") && !a.sourceName.startsWith("contracts/mocks/"),
  );
  const linkedInto = new Map<string, string[]>();
  const linksOf = new Map<string, string[]>();
  for (const a of ours) {
    const libraries = Object.values(a.linkReferences).flatMap((bySource) => Object.keys(bySource));
    linksOf.set(a.contractName, [...new Set(libraries)].sort());
    for (const lib of libraries) linkedInto.set(lib, [...(linkedInto.get(lib) ?? []), a.contractName]);
  }
  const contracts: ContractSize[] = [];
  for (const a of ours) {
    if (byteLength(a.deployedBytecode) === 0) continue; // interface or abstract contract
    const library = a.deployedBytecode.toLowerCase().startsWith(LIBRARY_PREFIX);
    const users = [...new Set(linkedInto.get(a.contractName) ?? [])].sort();
    if (library && users.length === 0 && !a.abi.some(isFunction)) continue;
    const runtimeBytes = byteLength(a.deployedBytecode);
    const initcodeBytes = byteLength(a.bytecode);
    contracts.push({
      contract: a.contractName,
      source: a.sourceName,
      kind: library ? "library" : "contract",
      runtimeBytes,
      runtimeMargin: RUNTIME_LIMIT - runtimeBytes,
      initcodeBytes,
      initcodeMargin: INITCODE_LIMIT - initcodeBytes,
      linkedLibraries: linksOf.get(a.contractName) ?? [],
      linkedInto: users,
    });
  }
  contracts.sort((x, y) => compare(x.source, y.source) || compare(x.contract, y.contract));
  return { limits: { runtimeBytes: RUNTIME_LIMIT, initcodeBytes: INITCODE_LIMIT }, contracts };
}

function isFunction(item: unknown): boolean {
  return typeof item === "object" && item !== null && "type" in item && item.type === "function";
}

/** Code-unit order, the same on every machine (localeCompare is not). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sizes from the compiled artifacts of contracts/ (compile first: `hardhat run` does). */
export async function measureSizes(artifacts: ArtifactManager): Promise<SizeSnapshot> {
  const names = [...(await artifacts.getAllFullyQualifiedNames())].filter((n) => n.startsWith("contracts/"));
  const list: SizedArtifact[] = [];
  for (const name of names) {
    const a = await artifacts.readArtifact(name);
    list.push({
      contractName: a.contractName,
      sourceName: a.sourceName,
      abi: a.abi,
      bytecode: a.bytecode,
      deployedBytecode: a.deployedBytecode,
      linkReferences: a.linkReferences,
    });
  }
  return sizesFrom(list);
}

/** A plain-text table of `sizes`, tightest runtime margin first. */
export function sizeTable(sizes: SizeSnapshot): string {
  const rows = [...sizes.contracts].sort((x, y) => x.runtimeMargin - y.runtimeMargin);
  const fmt = (n: number) => n.toLocaleString("en-US");
  return fixedWidth(
    ["contract", "kind", "runtime", "margin", "init code", "margin", "linked"],
    rows.map((c) => [
      c.contract,
      c.kind,
      fmt(c.runtimeBytes),
      fmt(c.runtimeMargin),
      fmt(c.initcodeBytes),
      fmt(c.initcodeMargin),
      linkSummary(c),
    ]),
    new Set([0, 1, 6]),
  );
}

/** "links A, B" for a contract split into linked libraries, "linked into X" for such a library, else "". */
export function linkSummary(c: ContractSize): string {
  if (c.linkedLibraries.length > 0) return `links ${c.linkedLibraries.join(", ")}`;
  if (c.linkedInto.length > 0) return `linked into ${c.linkedInto.join(", ")}`;
  return "";
}
