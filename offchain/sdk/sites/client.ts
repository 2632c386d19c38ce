/**
 * The client side of the agent's site routes: post a signed version to a provider, read the version it serves.
 * Errors: PROVIDER_UNREACHABLE (no answer), PROVIDER_REJECTED (an error answer, with the agent's code),
 * PROVIDER_BAD_DATA (an answer that does not follow the schema).
 */
import type { z } from "zod";
import { apiErrorSchema } from "../api/routes.js";
import {
  postSiteRequest,
  postSiteResponse,
  siteResponse,
  type PostSiteResponse,
  type SiteResponse,
} from "../api/sites.js";
import { ProviderRejectedError } from "../client/agentClient.js";
import { StrataError } from "../errors.js";
import type { SiteRecord } from "./record.js";

export interface SiteClientOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
}

async function call(
  endpoint: string,
  path: string,
  init: RequestInit,
  options: SiteClientOptions,
): Promise<{ status: number; body: unknown; where: string }> {
  const base = endpoint.replace(/\/+$/, "");
  const where = `${base}${path}`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(where, {
      ...init,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
  } catch (cause) {
    throw new StrataError("PROVIDER_UNREACHABLE", `${base} did not answer`, { cause });
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch (cause) {
    throw new StrataError("PROVIDER_BAD_DATA", `${where}: the answer is not JSON`, { cause });
  }
  if (response.status >= 400) {
    const error = apiErrorSchema.safeParse(body);
    throw new ProviderRejectedError(
      base,
      response.status,
      error.success ? error.data.error.code : `HTTP_${response.status}`,
      error.success ? (error.data.error.message ?? response.statusText) : response.statusText,
    );
  }
  return { status: response.status, body, where };
}

function decode<S extends z.ZodType>(schema: S, where: string, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new StrataError("PROVIDER_BAD_DATA", `${where}: the answer does not follow the API`);
  return parsed.data;
}

/** POST /v1/sites: the provider checks and keeps the version (201, or 200 for the same record again). */
export async function postSiteRecord(
  endpoint: string,
  record: SiteRecord,
  signature: string,
  options: SiteClientOptions = {},
): Promise<PostSiteResponse> {
  const { body, where } = await call(
    endpoint,
    "/v1/sites",
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(postSiteRequest.encode({ record, signature })),
    },
    options,
  );
  return decode(postSiteResponse, where, body);
}

/** GET /v1/sites/<id>: the version a provider serves, or null when it holds none (404). */
export async function fetchSite(
  endpoint: string,
  siteId: string,
  options: SiteClientOptions = {},
): Promise<SiteResponse | null> {
  try {
    const { body, where } = await call(endpoint, `/v1/sites/${siteId}`, { method: "GET" }, options);
    return decode(siteResponse, where, body);
  } catch (error) {
    if (error instanceof ProviderRejectedError && error.status === 404) return null;
    throw error;
  }
}

/** The address a provider serves a site at (its folder: pages' relative links resolve under it). */
export function siteUrl(endpoint: string, siteId: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/sites/${siteId}/`;
}
