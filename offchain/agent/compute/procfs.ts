/**
 * What Linux's /proc says about a workload's process group: CPU time and resident memory summed over every
 * process in the group (the workload and whatever it forked), and whether a process is still alive.
 * Without /proc (not Linux) every reading is empty and only the wall-time limit applies.
 */
import { readdir, readFile } from "node:fs/promises";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every mainstream Linux ABI). */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  pid: number;
  /** One-letter state: R running, S sleeping, Z zombie, ... */
  state: string;
  pgrp: number;
  /** utime + stime of the process itself, in clock ticks. */
  cpuTicks: number;
  /** Resident set size in pages (see `residentBytes` for bytes). */
  rssPages: number;
  /** Start time after boot in clock ticks (with the pid, identifies a process across pid reuse). */
  startTicks: number;
}

/** Parse one /proc/<pid>/stat line (the command name may hold spaces and parentheses). */
export function parseProcStat(line: string): ProcStat | undefined {
  const close = line.lastIndexOf(")");
  const open = line.indexOf("(");
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  // Fields after the name, numbered from 3 (state) as in proc(5).
  const rest = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number): number => Number(rest[n - 3]);
  const state = rest[0];
  if (state === undefined || !Number.isInteger(pid)) return undefined;
  return {
    pid,
    state,
    pgrp: field(5),
    cpuTicks: field(14) + field(15),
    rssPages: field(24),
    startTicks: field(22),
  };
}

export async function readProcStat(pid: number, procRoot = "/proc"): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`${procRoot}/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

export interface GroupUsage {
  /** Live (non-zombie) processes in the group. */
  processes: number;
  /** CPU ticks of the live processes (ticks of exited children are lost: usage is a lower bound). */
  cpuTicks: number;
  rssBytes: number;
}

/** Sum the usage of every live process whose process group is `pgid`. */
export async function groupUsage(pgid: number, procRoot = "/proc"): Promise<GroupUsage> {
  const usage: GroupUsage = { processes: 0, cpuTicks: 0, rssBytes: 0 };
  let entries: string[];
  try {
    entries = await readdir(procRoot);
  } catch {
    return usage;
  }
  const stats = await Promise.all(
    entries.filter((name) => /^[0-9]+$/.test(name)).map((name) => readProcStat(Number(name), procRoot)),
  );
  const members = stats.filter(
    (stat): stat is ProcStat => stat?.pgrp === pgid && stat.state !== "Z" && stat.state !== "X",
  );
  const resident = await Promise.all(members.map((stat) => residentBytes(stat.pid, procRoot)));
  for (const [i, stat] of members.entries()) {
    usage.processes++;
    usage.cpuTicks += stat.cpuTicks;
    usage.rssBytes += resident[i] ?? 0;
  }
  return usage;
}

/** VmRSS of `pid` in bytes (from /proc/<pid>/status, in kB whatever the page size); 0 when unknown. */
export async function residentBytes(pid: number, procRoot = "/proc"): Promise<number> {
  try {
    const status = await readFile(`${procRoot}/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+([0-9]+)\s+kB/m.exec(status);
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Whether `pid` names a live (non-zombie) process, optionally the one that started at `startTicks`. */
export async function processAlive(pid: number, startTicks?: number, procRoot = "/proc"): Promise<boolean> {
  const stat = await readProcStat(pid, procRoot);
  if (stat === undefined) {
    // No /proc: fall back to signal 0 (cannot tell zombies or reused pids apart).
    try {
      process.kill(pid, 0);
      return procRoot === "/proc" && !(await hasProc(procRoot));
    } catch {
      return false;
    }
  }
  if (stat.state === "Z" || stat.state === "X") return false;
  return startTicks === undefined || stat.startTicks === startTicks;
}

async function hasProc(procRoot: string): Promise<boolean> {
  try {
    await readFile(`${procRoot}/self/stat`, "utf8");
    return true;
  } catch {
    return false;
  }
}
