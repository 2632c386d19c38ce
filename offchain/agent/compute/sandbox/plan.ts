/**
 * The launch plan: what the launcher (launcher.mjs, the first process of a workload) runs, written by the
 * agent as JSON next to the workload. Paths in it are as the launcher sees them: inside the sandbox for the
 * isolated runtime, on the host for the process runtime.
 */
import { fileURLToPath } from "node:url";
import type { HealthCheck, WorkloadDescription, WorkloadService } from "../../../sdk/compute/workload.js";

/** What a plan is made from (the part of a runtime's run request it needs). */
export interface PlanRequest {
  id: string;
  workload: WorkloadDescription;
  limits: { memoryMiB: number };
  env?: Record<string, string>;
}

/** The launcher's file on the host. */
export const LAUNCHER_PATH = fileURLToPath(new URL("./launcher.mjs", import.meta.url));

export interface PlannedService {
  name: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  files: Record<string, string>;
  expose: number[];
  health: HealthCheck | null;
  restart: WorkloadService["restart"];
  maxSeconds: number | null;
}

export interface LaunchPlan {
  services: PlannedService[];
  ingressDir: string;
  stopGraceMs: number;
  /** Each service in its own process group (killed as a group when it exits). */
  serviceGroups: boolean;
}

export interface PlanPaths {
  /** Node binary as the launcher sees it. */
  nodePath: string;
  /** Parent of the services' working directories (`<appDir>/<service>`). */
  appDir: string;
  ingressDir: string;
  tmpDir: string;
  path: string;
  /** Where each volume is, as the launcher sees it (the isolated runtime mounts it at its mount path). */
  volumeMounts: Record<string, string>;
  stopGraceMs: number;
  serviceGroups: boolean;
  /** Wrap a command service's argv (the process runtime's address-space limit). */
  wrapCommand?: ((argv: string[], memoryMiB: number) => string[]) | undefined;
}

/** Environment variable naming a volume's path: `STRATA_VOLUME_<NAME>` (upper case, `-` as `_`). */
export function volumeEnvName(volume: string): string {
  return `STRATA_VOLUME_${volume.toUpperCase().replaceAll("-", "_")}`;
}

export function buildPlan(request: PlanRequest, paths: PlanPaths): LaunchPlan {
  const services: PlannedService[] = [];
  for (const [name, svc] of Object.entries(request.workload.services)) {
    const cwd = `${paths.appDir}/${name}`;
    const files: Record<string, string> = { ...(svc.files ?? {}) };
    let argv: string[];
    if (svc.run.kind === "node") {
      // Without a package.json of its own, the script's folder could inherit "type": "module" from a parent.
      files["package.json"] ??= '{ "private": true }\n';
      files["main.js"] = svc.run.script;
      const heapMiB = Math.max(8, Math.floor((svc.resources.memoryMiB * 3) / 4));
      argv = [
        paths.nodePath,
        "--disable-warning=ExperimentalWarning",
        `--max-old-space-size=${heapMiB}`,
        "main.js",
      ];
    } else {
      argv = paths.wrapCommand
        ? paths.wrapCommand(svc.run.command, Math.min(svc.resources.memoryMiB, request.limits.memoryMiB))
        : svc.run.command;
    }
    const volumeEnv: Record<string, string> = {};
    for (const [volume, mountPath] of Object.entries(svc.volumes ?? {})) {
      volumeEnv[volumeEnvName(volume)] = paths.volumeMounts[volume] ?? mountPath;
    }
    services.push({
      name,
      argv,
      cwd,
      files,
      env: {
        PATH: paths.path,
        HOME: cwd,
        TMPDIR: paths.tmpDir,
        LANG: "C.UTF-8",
        STRATA_LEASE_ID: request.id,
        STRATA_SERVICE: name,
        STRATA_CPU_MILLICORES: String(svc.resources.cpuMillicores),
        STRATA_MEMORY_MIB: String(svc.resources.memoryMiB),
        ...(svc.expose?.[0] === undefined ? {} : { PORT: String(svc.expose[0]) }),
        ...request.env,
        ...volumeEnv,
        ...svc.env,
      },
      expose: svc.expose ?? [],
      health: svc.health ?? null,
      restart: svc.restart,
      maxSeconds: svc.maxSeconds ?? null,
    });
  }
  return {
    services,
    ingressDir: paths.ingressDir,
    stopGraceMs: paths.stopGraceMs,
    serviceGroups: paths.serviceGroups,
  };
}
