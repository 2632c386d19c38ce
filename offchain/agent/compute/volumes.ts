/**
 * Persistent volumes of leases: one per volume the manifest declares, kept under
 * `<dataDir>/compute/volumes/<leaseId>/<volume>` across workload and agent restarts, wiped when the lease ends.
 *
 * Quota: each volume is an ext4 file system in its own image file (`<volume>.img`, exactly the declared size),
 * loop-mounted at the volume's directory: a workload that fills it gets ENOSPC, and cannot touch anything
 * else. Where loop mounts are not possible (not root, no mkfs.ext4), the volume is a plain directory without a
 * quota and the agent warns loudly once.
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { access, mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { WorkloadDescription } from "../../sdk/compute/workload.js";
import type { Logger } from "../../runtime/logger.js";

const run = promisify(execFile);
const MiB = 1024 * 1024;

export type VolumeQuota = "ext4-image" | "none";

export interface PreparedVolume {
  name: string;
  path: string;
  sizeMiB: number;
  quota: VolumeQuota;
}

export class LeaseVolumes {
  private loopUnavailable: string | null | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly logger: Logger,
    private readonly options: { quota?: boolean } = {},
  ) {}

  leaseDir(leaseId: bigint): string {
    return join(this.dataDir, "compute", "volumes", leaseId.toString());
  }

  /** Create (first time) or re-mount (after a restart) every volume of the manifest. */
  async prepare(leaseId: bigint, manifest: WorkloadDescription): Promise<PreparedVolume[]> {
    const prepared: PreparedVolume[] = [];
    for (const [name, { sizeMiB }] of Object.entries(manifest.volumes ?? {})) {
      const path = join(this.leaseDir(leaseId), name);
      await mkdir(path, { recursive: true });
      const quota = await this.mountImage(path, `${path}.img`, sizeMiB);
      prepared.push({ name, path, sizeMiB, quota });
    }
    return prepared;
  }

  /** Unmount the lease's volumes and keep their images (the agent stops; the next start mounts them again). */
  async release(leaseId: bigint): Promise<void> {
    for (const mount of await mountedUnder(this.leaseDir(leaseId))) {
      await run("umount", [mount]).catch(() => run("umount", ["-l", mount]).catch(() => undefined));
    }
  }

  /** Unmount and delete every volume of the lease (the lease ended). */
  async wipe(leaseId: bigint): Promise<void> {
    const dir = this.leaseDir(leaseId);
    const mounts = await mountedUnder(dir);
    for (const mount of mounts) await run("umount", ["-l", mount]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }

  private async mountImage(path: string, image: string, sizeMiB: number): Promise<VolumeQuota> {
    if (this.options.quota === false) return "none";
    if ((await mountedUnder(path)).includes(path)) return "ext4-image";
    const unavailable = await this.loopSupport();
    if (unavailable !== null) return "none";
    try {
      if (!(await exists(image))) {
        await run("truncate", ["-s", String(sizeMiB * MiB), image]);
        await run("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", "root_owner=0:0", image]);
      }
      await run("mount", ["-o", "loop,nosuid,nodev", image, path]);
      return "ext4-image";
    } catch (error) {
      this.logger.error(
        { err: error, path },
        "LOUD WARNING: cannot loop-mount the volume's ext4 image; the volume has NO disk quota",
      );
      return "none";
    }
  }

  private async loopSupport(): Promise<string | null> {
    if (this.loopUnavailable !== undefined) return this.loopUnavailable;
    let reason: string | null = null;
    if (process.getuid?.() !== 0) reason = "the agent is not root (loop mounts need it)";
    else {
      try {
        await run("mkfs.ext4", ["-V"]);
      } catch {
        reason = "mkfs.ext4 is not installed (e2fsprogs)";
      }
    }
    if (reason !== null) {
      this.logger.error({ reason }, "LOUD WARNING: volumes get NO disk quota on this machine");
    }
    this.loopUnavailable = reason;
    return reason;
  }
}

/** Mount points at or under `dir` (from /proc/self/mountinfo), deepest first. */
async function mountedUnder(dir: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8").catch(() => "");
  return text
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .map((p) => p.replace(/\\040/g, " "))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lazily unmount every volume mounted under `dir` (synchronous): for tools that remove a whole data directory
 * whose agent was killed without stopping (a killed agent cannot unmount its leases' volumes).
 */
export function releaseMountsUnderSync(dir: string): void {
  let text = "";
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return;
  }
  const mounts = text
    .split("\n")
    .map((line) => (line.split(" ")[4] ?? "").replace(/\\040/g, " "))
    .filter((p) => p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mount of mounts) {
    try {
      execFileSync("umount", ["-l", mount], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
}
