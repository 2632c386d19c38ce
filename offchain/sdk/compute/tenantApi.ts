/**
 * The tenant's side of the agent's lease routes (tenantRoutes.ts in the agent): send a signed manifest update,
 * read the logs (streamed), the events, and a volume's backup (a tar). A provider is not trusted: refusals
 * carry the agent's code (PROVIDER_REJECTED with `agentCode`; TENANT_AUTH_FAILED for a refused signature),
 * network trouble is PROVIDER_UNREACHABLE.
 */
import type { Signer } from "ethers";
import { StrataError } from "../errors.js";
import {
  ACCESS_HEADER,
  leaseUpdateMessage,
  signLeaseAccess,
  type AccessScope,
  type LeaseTarget,
} from "./tenantAuth.js";
import { workloadHash, type WorkloadDescription } from "./workload.js";

export interface TenantApiOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Seconds since the epoch (default: the local clock). */
  now?: () => number;
}

export interface LeaseEvent {
  at: number;
  type: string;
  service?: string;
  [detail: string]: unknown;
}

export interface UpdateReceipt {
  leaseId: string;
  version: number;
  manifestHash: string;
  state: string;
}

async function send(
  endpoint: string,
  path: string,
  init: RequestInit,
  options: TenantApiOptions,
  stream = false,
): Promise<Response> {
  const where = `${endpoint.replace(/\/+$/, "")}${path}`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(where, {
      ...init,
      ...(stream ? {} : { signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) }),
    });
  } catch (cause) {
    throw new StrataError("PROVIDER_UNREACHABLE", `cannot reach the provider's agent at ${where}`, { cause });
  }
  if (response.ok) return response;
  let code = "UNKNOWN";
  let message = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not the agent's error shape
  }
  if (response.status === 401 || response.status === 403) {
    throw new StrataError("TENANT_AUTH_FAILED", `the agent refused the tenant's signature: ${message}`, {
      details: code,
    });
  }
  if (path.endsWith("/manifest")) {
    throw new StrataError("LEASE_UPDATE_REFUSED", `the agent refused the update (${code}): ${message}`, {
      details: code,
    });
  }
  throw new StrataError("PROVIDER_REJECTED", `the agent refused (${code}): ${message}`, { details: code });
}

async function grant(
  signer: Signer,
  target: LeaseTarget,
  scope: AccessScope,
  options: TenantApiOptions,
): Promise<string> {
  const now = options.now?.() ?? Math.floor(Date.now() / 1000);
  return signLeaseAccess(signer, target, scope, now);
}

/** Sign and send manifest `version` of the lease; the agent restarts the workload on it (volumes kept). */
export async function updateLeaseManifest(
  endpoint: string,
  signer: Signer,
  target: LeaseTarget,
  version: number,
  manifest: WorkloadDescription,
  options: TenantApiOptions = {},
): Promise<UpdateReceipt> {
  const signature = await signer.signMessage(leaseUpdateMessage(target, version, workloadHash(manifest)));
  const response = await send(
    endpoint,
    `/v1/leases/${target.leaseId}/manifest`,
    {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ version, manifest, signature }),
    },
    options,
  );
  return (await response.json()) as UpdateReceipt;
}

/** The lease's logs as a stream of bytes (`follow`: until the workload stops or the caller stops reading). */
export async function leaseLogs(
  endpoint: string,
  signer: Signer,
  target: LeaseTarget,
  options: TenantApiOptions & { follow?: boolean; from?: number } = {},
): Promise<ReadableStream<Uint8Array>> {
  const query = new URLSearchParams();
  if (options.follow === true) query.set("follow", "1");
  if (options.from !== undefined) query.set("from", String(options.from));
  const response = await send(
    endpoint,
    `/v1/leases/${target.leaseId}/logs${query.size > 0 ? `?${query.toString()}` : ""}`,
    { headers: { [ACCESS_HEADER]: await grant(signer, target, "logs", options) } },
    options,
    true,
  );
  if (!response.body) throw new StrataError("PROVIDER_BAD_DATA", "the agent sent no log body");
  return response.body;
}

export async function leaseEvents(
  endpoint: string,
  signer: Signer,
  target: LeaseTarget,
  options: TenantApiOptions = {},
): Promise<LeaseEvent[]> {
  const response = await send(
    endpoint,
    `/v1/leases/${target.leaseId}/events`,
    { headers: { [ACCESS_HEADER]: await grant(signer, target, "events", options) } },
    options,
  );
  const body = (await response.json()) as { events?: unknown };
  if (!Array.isArray(body.events))
    throw new StrataError("PROVIDER_BAD_DATA", "the agent's events are not a list");
  return body.events as LeaseEvent[];
}

/** A tar of one of the lease's volumes. */
export async function leaseVolumeBackup(
  endpoint: string,
  signer: Signer,
  target: LeaseTarget,
  volume: string,
  options: TenantApiOptions = {},
): Promise<Uint8Array> {
  const response = await send(
    endpoint,
    `/v1/leases/${target.leaseId}/volumes/${encodeURIComponent(volume)}/backup`,
    { headers: { [ACCESS_HEADER]: await grant(signer, target, "backup", options) } },
    options,
    true,
  );
  return new Uint8Array(await response.arrayBuffer());
}
