/**
 * The compute routes of a provider agent, from the tenant's side: hand over a workload description
 * (`PUT /v1/workloads/:hash`) and read what the agent says about a lease (`GET /v1/leases/:id`).
 * A provider is not trusted: answers are read strictly (PROVIDER_BAD_DATA), refusals carry the agent's
 * code (PROVIDER_REJECTED, see ProviderRejectedError), network trouble is PROVIDER_UNREACHABLE.
 */
import { ProviderRejectedError } from "../client/agentClient.js";
import type { z } from "zod";
import {
  apiErrorSchema,
  leaseStatusResponse,
  workloadResponse,
  type LeaseStatusResponse,
  type WorkloadResponse,
} from "../api/routes.js";
import { badData, decodeAnswer } from "../client/agentJson.js";
import { StrataError } from "../errors.js";
import { canonicalJson, workloadHash, type WorkloadDescription } from "./workload.js";

export interface ComputeAgentOptions {
  fetch?: typeof fetch;
  /** Default 10 s. */
  timeoutMs?: number;
}

export type WorkloadReceipt = Pick<WorkloadResponse, "hash" | "state" | "leases">;

/** What an agent reports about one of its leases. */
export type AgentLeaseView = Pick<
  LeaseStatusResponse,
  | "state"
  | "closeReason"
  | "workloadReceived"
  | "runState"
  | "runs"
  | "lastExit"
  | "usage"
  | "lastHeartbeatPeriod"
  | "runtime"
  | "manifestVersion"
  | "health"
>;

const MAX_ANSWER_BYTES = 64 * 1024;

async function call<S extends z.ZodType>(
  endpoint: string,
  path: string,
  init: RequestInit,
  ok: readonly number[],
  options: ComputeAgentOptions,
  schema: S,
): Promise<z.output<S>> {
  const base = endpoint.replace(/\/+$/, "");
  const where = `${base}${path}`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(where, {
      ...init,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (cause) {
    const timedOut = cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
    throw new StrataError(
      "PROVIDER_UNREACHABLE",
      timedOut ? `${base} did not answer in time` : `cannot reach ${base}`,
      { details: timedOut ? "timeout" : "connection failed", cause },
    );
  }
  const text = await response.text();
  if (text.length > MAX_ANSWER_BYTES) throw badData(where, `answer is larger than ${MAX_ANSWER_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    if (!ok.includes(response.status)) {
      throw new ProviderRejectedError(base, response.status, `HTTP_${response.status}`, response.statusText);
    }
    throw badData(where, "answer is not JSON", cause);
  }
  if (!ok.includes(response.status)) {
    let code = `HTTP_${response.status}`;
    let message = response.statusText || "error";
    try {
      const { error } = decodeAnswer(apiErrorSchema, where, json);
      code = error.code;
      message = error.message ?? message;
    } catch {
      // not the API's error shape: keep the HTTP status
    }
    throw new ProviderRejectedError(base, response.status, code, message);
  }
  return decodeAnswer(schema, where, json);
}

/** PUT the description to the agent at `endpoint`; it accepts it only for one of its orders or leases. */
export async function sendWorkload(
  endpoint: string,
  workload: WorkloadDescription,
  options: ComputeAgentOptions = {},
): Promise<WorkloadReceipt> {
  const hash = workloadHash(workload);
  const receipt = await call(
    endpoint,
    `/v1/workloads/${hash}`,
    { method: "PUT", headers: { "content-type": "application/json" }, body: canonicalJson(workload) },
    [200, 201],
    options,
    workloadResponse,
  );
  return { hash: receipt.hash, state: receipt.state, leases: receipt.leases };
}

/** GET /v1/leases/:id from the lease's provider agent. */
export async function agentLeaseView(
  endpoint: string,
  leaseId: bigint,
  options: ComputeAgentOptions = {},
): Promise<AgentLeaseView> {
  const view = await call(
    endpoint,
    `/v1/leases/${leaseId}`,
    { method: "GET" },
    [200],
    options,
    leaseStatusResponse,
  );
  return {
    state: view.state,
    closeReason: view.closeReason,
    workloadReceived: view.workloadReceived,
    runState: view.runState,
    runs: view.runs,
    lastExit: view.lastExit,
    usage: view.usage,
    lastHeartbeatPeriod: view.lastHeartbeatPeriod,
    ...(view.runtime === undefined ? {} : { runtime: view.runtime }),
    ...(view.manifestVersion === undefined ? {} : { manifestVersion: view.manifestVersion }),
    ...(view.health === undefined ? {} : { health: view.health }),
  };
}

/** Which runtime a provider's agent runs workloads in (`GET /v1/compute/runtime`), or null without compute. */
export async function agentComputeRuntime(
  endpoint: string,
  options: ComputeAgentOptions = {},
): Promise<{ runtime: string; isolated: boolean; fallbackReason: string | null } | null> {
  try {
    const response = await (options.fetch ?? fetch)(`${endpoint.replace(/\/+$/, "")}/v1/compute/runtime`, {
      signal: AbortSignal.timeout(options.timeoutMs ?? 3_000),
    });
    if (!response.ok) return null;
    const body = (await response.json()) as {
      runtime?: unknown;
      isolated?: unknown;
      fallbackReason?: unknown;
    };
    if (typeof body.runtime !== "string") return null;
    return {
      runtime: body.runtime,
      isolated: body.isolated === true,
      fallbackReason: typeof body.fallbackReason === "string" ? body.fallbackReason : null,
    };
  } catch {
    return null;
  }
}
