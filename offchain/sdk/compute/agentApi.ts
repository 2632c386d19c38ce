/**
 * The compute routes of a provider agent, from the tenant's side: hand over a workload description
 * (`PUT /v1/workloads/:hash`) and read what the agent says about a lease (`GET /v1/leases/:id`).
 * A provider is not trusted: answers are read strictly (PROVIDER_BAD_DATA), refusals carry the agent's
 * code (PROVIDER_REJECTED, see ProviderRejectedError), network trouble is PROVIDER_UNREACHABLE.
 */
import { ProviderRejectedError } from "../client/agentClient.js";
import { badData, JsonReader } from "../client/agentJson.js";
import { StrataError } from "../errors.js";
import { canonicalJson, workloadHash, type WorkloadDescription } from "./workload.js";

export interface ComputeAgentOptions {
  fetch?: typeof fetch;
  /** Default 10 s. */
  timeoutMs?: number;
}

export interface WorkloadReceipt {
  hash: string;
  state: "stored" | "already-stored";
  leases: bigint[];
}

/** What an agent reports about one of its leases. */
export interface AgentLeaseView {
  state: string;
  closeReason: string | null;
  workloadReceived: boolean;
  /** awaiting-workload | running | exited | stopped | unrunnable */
  runState: string;
  runs: number;
  lastExit: unknown;
  usage: { cpuMillicores: number | null; rssBytes: number; processes: number } | null;
  lastHeartbeatPeriod: bigint | null;
}

const MAX_ANSWER_BYTES = 64 * 1024;

async function call(
  endpoint: string,
  path: string,
  init: RequestInit,
  ok: readonly number[],
  options: ComputeAgentOptions,
): Promise<{ reader: JsonReader; raw: Record<string, unknown> }> {
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
      const error = JsonReader.of(where, json).object("error");
      code = error.string("code");
      message = error.optionalString("message") ?? message;
    } catch {
      // not the API's error shape: keep the HTTP status
    }
    throw new ProviderRejectedError(base, response.status, code, message);
  }
  return { reader: JsonReader.of(where, json), raw: json as Record<string, unknown> };
}

/** PUT the description to the agent at `endpoint`; it accepts it only for one of its orders or leases. */
export async function sendWorkload(
  endpoint: string,
  workload: WorkloadDescription,
  options: ComputeAgentOptions = {},
): Promise<WorkloadReceipt> {
  const hash = workloadHash(workload);
  const { reader: r, raw } = await call(
    endpoint,
    `/v1/workloads/${hash}`,
    { method: "PUT", headers: { "content-type": "application/json" }, body: canonicalJson(workload) },
    [200, 201],
    options,
  );
  const leases = raw.leases ?? [];
  if (!Array.isArray(leases) || !leases.every((id) => typeof id === "string" && /^[0-9]{1,20}$/.test(id))) {
    throw badData(`${endpoint}/v1/workloads/${hash}`, 'field "leases" must be a list of decimal ids');
  }
  return {
    hash: r.string("hash").toLowerCase(),
    state: r.oneOf("state", ["stored", "already-stored"] as const),
    leases: leases.map((id: string) => BigInt(id)),
  };
}

/** GET /v1/leases/:id from the lease's provider agent. */
export async function agentLeaseView(
  endpoint: string,
  leaseId: bigint,
  options: ComputeAgentOptions = {},
): Promise<AgentLeaseView> {
  const { reader: r, raw } = await call(endpoint, `/v1/leases/${leaseId}`, { method: "GET" }, [200], options);
  const usage = raw.usage;
  const runs = raw.runs;
  return {
    state: r.string("state"),
    closeReason: r.optionalString("closeReason"),
    workloadReceived: r.boolean("workloadReceived"),
    runState: r.string("runState"),
    runs: typeof runs === "number" && Number.isSafeInteger(runs) ? runs : 0,
    lastExit: raw.lastExit ?? null,
    usage:
      typeof usage === "object" && usage !== null
        ? (usage as { cpuMillicores: number | null; rssBytes: number; processes: number })
        : null,
    lastHeartbeatPeriod: r.optionalBigint("lastHeartbeatPeriod"),
  };
}
