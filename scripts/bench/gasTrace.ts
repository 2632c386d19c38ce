/**
 * Where a transaction's gas goes: an opcode-level trace (`debug_traceTransaction`) summed by kind — each storage
 * slot read and written (named by the keccak preimages the trace computed), calls and delegate calls (their own
 * cost, without the callee's), logs, keccak, precompiles, memory and the rest — plus the intrinsic and calldata
 * cost and the refund. Used by ./updateTrace.ts.
 */
import { StrataError } from "../../offchain/sdk/errors.js";

interface StructLog {
  pc: number;
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
  memory?: string[];
}

interface TraceResult {
  gas: number;
  failed: boolean;
  structLogs: StructLog[];
}

export interface Requester {
  send(method: string, params: unknown[]): Promise<unknown>;
}

/** One line of a breakdown: a label, its gas and how many operations it sums. */
export interface TraceLine {
  label: string;
  gas: number;
  count: number;
}

export interface TraceBreakdown {
  gasUsed: number;
  intrinsic: number;
  calldata: number;
  refund: number;
  lines: TraceLine[];
}

const PRECOMPILES: Record<string, string> = {
  "0x0000000000000000000000000000000000000001": "precompile ecrecover",
  "0x0000000000000000000000000000000000000002": "precompile sha256",
  "0x0000000000000000000000000000000000000004": "precompile identity",
  "0x0000000000000000000000000000000000000005": "precompile modexp",
};

const CALLS = new Set(["CALL", "DELEGATECALL", "STATICCALL", "CALLCODE"]);

function word(hex: string): bigint {
  return BigInt(hex.startsWith("0x") ? hex : "0x" + hex);
}

function addr(v: bigint): string {
  return "0x" + (v & ((1n << 160n) - 1n)).toString(16).padStart(40, "0");
}

/** Read `size` bytes at `offset` from a trace step's memory (array of 32-byte hex words). */
function readMemory(memory: string[], offset: number, size: number): string {
  const hex = memory.map((w) => (w.startsWith("0x") ? w.slice(2) : w)).join("");
  return hex.slice(offset * 2, (offset + size) * 2).padEnd(size * 2, "0");
}

/**
 * Break the gas of transaction `hash` down. `names` gives names to addresses (contracts, libraries) and to storage
 * slots (`slot:<n>`, also used for the base slot of a mapping when a slot is named by its keccak preimage).
 */
export async function traceBreakdown(
  requester: Requester,
  hash: string,
  names: Map<string, string>,
): Promise<TraceBreakdown> {
  const trace = (await requester.send("debug_traceTransaction", [
    hash,
    { enableMemory: true, disableStorage: true },
  ])) as TraceResult;
  const receipt = (await requester.send("eth_getTransactionReceipt", [hash])) as { gasUsed: string };
  const tx = (await requester.send("eth_getTransactionByHash", [hash])) as { input: string };
  const gasUsed = Number(BigInt(receipt.gasUsed));
  const input = tx.input.slice(2);
  let zero = 0;
  let nonzero = 0;
  for (let i = 0; i < input.length; i += 2) {
    if (input.slice(i, i + 2) === "00") zero++;
    else nonzero++;
  }
  const calldata = zero * 4 + nonzero * 16;
  const intrinsic = 21_000;
  const logs = trace.structLogs;
  if (logs.length === 0) throw new StrataError("BENCH_SETUP_FAILED", "empty trace");

  // Keccak preimages: result -> [key, base] (for 64-byte preimages) to name mapping slots.
  const preimages = new Map<bigint, { key: bigint; base: bigint }>();
  const nameSlot = (slot: bigint): string => {
    const direct = names.get(`slot:${slot}`);
    if (direct !== undefined) return direct;
    if (slot < 1000n) return `slot ${slot}`;
    for (const [h, p] of preimages) {
      const off = slot - h;
      if (off >= 0n && off < 16n) {
        const base = nameSlot(p.base);
        const key = p.key < 1n << 64n ? p.key.toString() : addrName(p.key);
        return `${base}[${key}]${off === 0n ? "" : ` +${off}`}`;
      }
    }
    return `slot 0x${slot.toString(16).slice(0, 8)}…`;
  };
  const addrName = (v: bigint): string => {
    const a = addr(v);
    return names.get(a) ?? a.slice(0, 10);
  };

  // Frame addresses: the storage owner (for DELEGATECALL, the caller's) and the code address.
  const lines = new Map<string, TraceLine>();
  const add = (label: string, gas: number) => {
    const l = lines.get(label) ?? { label, gas: 0, count: 0 };
    l.gas += gas;
    l.count++;
    lines.set(label, l);
  };
  const to = (tx as unknown as { to: string }).to.toLowerCase();
  const frames: { code: string; storage: string }[] = [{ code: to, storage: to }];
  for (let i = 0; i < logs.length; i++) {
    const s = logs[i];
    if (!s) continue;
    const stack = s.stack ?? [];
    const top = (k: number) => word(stack[stack.length - 1 - k] ?? "0");
    while (frames.length > s.depth) frames.pop();
    const frame = frames[frames.length - 1] ?? { code: to, storage: to };
    const where = names.get(frame.code) ?? frame.code.slice(0, 10);
    const owner = names.get(frame.storage) ?? frame.storage.slice(0, 10);
    if (s.op === "KECCAK256" || s.op === "SHA3") {
      const offset = Number(top(0));
      const size = Number(top(1));
      const next = logs[i + 1];
      if (size === 64 && next?.stack && s.memory) {
        const pre = readMemory(s.memory, offset, size);
        const result = word(next.stack[next.stack.length - 1] ?? "0");
        preimages.set(result, { key: word(pre.slice(0, 64)), base: word(pre.slice(64)) });
      }
      add(`keccak (${where})`, s.gasCost);
    } else if (s.op === "SLOAD") {
      add(`SLOAD ${owner}: ${nameSlot(top(0))}`, s.gasCost);
    } else if (s.op === "SSTORE") {
      add(`SSTORE ${owner}: ${nameSlot(top(0))}`, s.gasCost);
    } else if (s.op === "TLOAD" || s.op === "TSTORE") {
      add(`${s.op} (reentrancy guard)`, s.gasCost);
    } else if (s.op.startsWith("LOG")) {
      add(`${s.op} (${where})`, s.gasCost);
    } else if (CALLS.has(s.op)) {
      const target = addr(top(1));
      // Own cost = gas before the call - gas after it returns - what the callee used.
      let j = i + 1;
      const childStart = logs[j];
      let childUsed = 0;
      if (childStart?.depth === s.depth + 1) {
        let last = childStart;
        while (j < logs.length && (logs[j]?.depth ?? 0) > s.depth) {
          const lj = logs[j];
          if (lj?.depth === s.depth + 1) last = lj;
          j++;
        }
        childUsed = childStart.gas - (last.gas - last.gasCost);
      }
      const after = logs[j];
      const delta = after ? s.gas - after.gas : s.gasCost;
      const pre = PRECOMPILES[target];
      if (pre) add(pre, delta);
      else
        add(`${s.op} ${where} -> ${names.get(target) ?? target.slice(0, 10)} (own cost)`, delta - childUsed);
      if (childStart?.depth === s.depth + 1) {
        frames.push({
          code: target,
          storage: s.op === "DELEGATECALL" || s.op === "CALLCODE" ? frame.storage : target,
        });
      }
    } else if (
      s.op === "MSTORE" ||
      s.op === "MLOAD" ||
      s.op === "MSTORE8" ||
      s.op === "MCOPY" ||
      s.op === "CALLDATACOPY" ||
      s.op === "RETURNDATACOPY" ||
      s.op === "CODECOPY"
    ) {
      add(`memory/copy (${where})`, s.gasCost);
    } else if (
      s.op === "EXTCODESIZE" ||
      s.op === "EXTCODEHASH" ||
      s.op === "BALANCE" ||
      s.op === "EXTCODECOPY"
    ) {
      add(`${s.op} (${where})`, s.gasCost);
    } else {
      add(`other opcodes (${where})`, s.gasCost);
    }
  }
  const first = logs[0];
  const last = logs[logs.length - 1];
  const executed = first && last ? first.gas - (last.gas - last.gasCost) : 0;
  const refund = intrinsic + calldata + executed - gasUsed;
  return { gasUsed, intrinsic, calldata, refund, lines: [...lines.values()] };
}

/** The breakdown as a table, largest lines first. */
export function breakdownTable(title: string, b: TraceBreakdown): string {
  const rows = [...b.lines].sort((a, c) => c.gas - a.gas);
  const out = [`## ${title}: gasUsed ${b.gasUsed}`];
  out.push(`  intrinsic ${b.intrinsic}, calldata ${b.calldata}, refund -${b.refund}`);
  for (const r of rows) out.push(`  ${String(r.gas).padStart(7)}  x${String(r.count).padEnd(3)} ${r.label}`);
  return out.join("\n");
}
