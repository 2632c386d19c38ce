/**
 * Sampling one leaf of a data set from its provider's agent (`GET /v1/datasets/:id/leaves/:leaf`, schema in
 * offchain/sdk/api/datasets.ts) and checking it against the root and span the chain holds, as the market checks a
 * proof answer (`verifyDataSetLeaf`). The provider is not trusted: one deadline covers connecting, headers and
 * body; the body is read with a hard byte cap; redirects are not followed; any misbehaviour is a result, never an
 * exception.
 */
import { dataSetLeafResponse } from "../../sdk/api/datasets.js";
import { decodeAnswer } from "../../sdk/client/agentJson.js";
import { sizeClass } from "../../sdk/datasets/money.js";
import { verifyDataSetLeaf } from "../../sdk/datasets/tree.js";
import { StrataError, type StrataErrorCode } from "../../sdk/errors.js";

export interface DataSetLeafSample {
  endpoint: string;
  dataSetId: bigint;
  leafIndex: bigint;
  /** The data set's root and span on chain (the agent answers against them). */
  root: string;
  span: bigint;
  timeoutMs: number;
  maxBytes: number;
  fetch: typeof fetch;
}

/** The outcome of one sample; `code` says how the provider failed. */
export type SampleResult =
  { ok: true; latencyMs: number } | { ok: false; code: StrataErrorCode; message: string; latencyMs: number };

/** Sample one leaf; resolves `{ ok: false, code }` (PROVIDER_UNREACHABLE / _TIMEOUT / _REJECTED / _BAD_DATA). */
export async function sampleDataSetLeaf(opts: DataSetLeafSample): Promise<SampleResult> {
  const started = performance.now();
  const fail = (code: StrataErrorCode, message: string): SampleResult => ({
    ok: false,
    code,
    message,
    latencyMs: Math.round(performance.now() - started),
  });
  const depth = sizeClass(opts.span);
  if (depth === undefined || opts.leafIndex >= opts.span) {
    throw new StrataError("INVALID_ARGUMENT", `leaf ${opts.leafIndex} is outside span ${opts.span}`);
  }
  let base: URL;
  try {
    base = new URL(opts.endpoint);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new TypeError("not http(s)");
  } catch {
    return fail("PROVIDER_UNREACHABLE", `endpoint ${opts.endpoint} is not an http(s) URL`);
  }
  const url = `${base.href.replace(/\/+$/, "")}/v1/datasets/${opts.dataSetId}/leaves/${opts.leafIndex}`;
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  let body: Uint8Array;
  try {
    const response = await opts.fetch(url, { signal: deadline, redirect: "manual" });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      return fail("PROVIDER_REJECTED", `${url}: HTTP ${response.status}`);
    }
    const read = await readCapped(response, opts.maxBytes);
    if (read === undefined) return fail("PROVIDER_BAD_DATA", `${url}: answer above ${opts.maxBytes} bytes`);
    body = read;
  } catch (error) {
    if (deadline.aborted) return fail("PROVIDER_TIMEOUT", `${url}: no answer within ${opts.timeoutMs} ms`);
    return fail("PROVIDER_UNREACHABLE", `${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let answer;
  try {
    answer = decodeAnswer(
      dataSetLeafResponse,
      url,
      JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)),
    );
  } catch (error) {
    return fail("PROVIDER_BAD_DATA", error instanceof Error ? error.message : `${url}: answer is not JSON`);
  }
  const root = opts.root.toLowerCase();
  if (answer.root.toLowerCase() !== root || answer.span !== opts.span || answer.depth !== depth) {
    return fail("PROVIDER_BAD_DATA", `${url}: answer is for another state (root, span or depth differ)`);
  }
  const leaf = [`0x${answer.leaf.slice(2, 66)}`, `0x${answer.leaf.slice(66, 130)}`] as const;
  if (!verifyDataSetLeaf(root, depth, Number(opts.leafIndex), leaf, answer.path)) {
    return fail("PROVIDER_BAD_DATA", `${url}: leaf ${opts.leafIndex} and its path do not hash to ${root}`);
  }
  return { ok: true, latencyMs: Math.round(performance.now() - started) };
}

/** The body, or undefined once it passes `maxBytes` (the rest is not read). */
async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array | undefined> {
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = (await reader.read()) as { done: boolean; value?: Uint8Array };
    const value = chunk.value;
    if (chunk.done || value === undefined) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
