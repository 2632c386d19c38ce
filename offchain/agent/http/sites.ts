/**
 * Sites (docs/SPEC.md, "Sites"): a client posts a version's signed record; the agent checks the signature, that the
 * version is newer than the one it holds, and that it holds the manifest and every file as public content, then
 * serves the site's paths from its public files. Paths change across versions, so their answers are `no-cache`
 * with the file's content id as ETag (a revalidation costs a 304); the same bytes named by their content id
 * (`/v1/files/<cid>`, files.ts) never change and are cached for good.
 */
import type { TypedDataDomain } from "ethers";
import { isHexString } from "ethers";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { postSiteRequest, postSiteResponse, siteParams, siteResponse } from "../../sdk/api/sites.js";
import { StrataError } from "../../sdk/errors.js";
import {
  contentTypeFor,
  lookupSitePath,
  MAX_SITE_MANIFEST_BYTES,
  parseSiteManifest,
  type SiteFile,
  type SiteManifest,
} from "../../sdk/sites/manifest.js";
import { SiteRecordError, verifySiteRecord, type SiteRecord } from "../../sdk/sites/record.js";
import type { PublicFileSource } from "../files/publicFiles.js";
import type { SiteStore } from "../sites/store.js";
import { ApiError, sendApiError } from "./errors.js";
import { parseRange } from "./pieces.js";

/** Cache-Control of a site path: what it names changes with the next version, so revalidate (ETag) every time. */
export const REVALIDATE = "no-cache";

export interface SiteRouteDeps {
  sites: SiteStore;
  publicFiles: PublicFileSource;
  /** The site-record domain of this agent's chain and market (siteDomain). */
  domain: TypedDataDomain;
}

/** Files stat'ed at once when a record is checked. */
const STAT_BATCH = 32;

export function registerSiteRoutes(server: FastifyInstance, deps: SiteRouteDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();

  app.post(
    "/v1/sites",
    { schema: { body: postSiteRequest, response: { 200: postSiteResponse, 201: postSiteResponse } } },
    async (request, reply) => {
      const { record, signature } = request.body;
      try {
        verifySiteRecord(deps.domain, record, signature);
      } catch (error) {
        if (error instanceof SiteRecordError) {
          throw new ApiError(
            400,
            error.problem === "BAD_SIGNATURE" ? "BAD_SIGNATURE" : "BAD_SITE_RECORD",
            error.message,
          );
        }
        throw error;
      }
      const held = deps.sites.current(record.siteId);
      const answer = { siteId: record.siteId, version: record.version, accepted: true };
      if (held?.record.version === record.version && held.signature === signature) {
        return reply.status(200).send(answer); // the same record again: a retry
      }
      if (held !== undefined && record.version <= held.record.version) {
        throw new ApiError(
          409,
          "STALE_VERSION",
          `version ${record.version} is not above ${held.record.version}`,
        );
      }
      const manifest = record.removed ? null : await checkContent(deps.publicFiles, record);
      if (!deps.sites.put(record, signature, manifest)) {
        throw new ApiError(409, "STALE_VERSION", `a version as high as ${record.version} arrived first`);
      }
      request.log.info(
        { siteId: record.siteId, version: record.version.toString(), removed: record.removed },
        "site version accepted",
      );
      return reply.status(201).send(answer);
    },
  );

  app.get("/v1/sites/:id", { schema: { params: siteParams, response: { 200: siteResponse } } }, (request) => {
    const held = heldSite(deps, request.params.id);
    if (held === undefined) throw unknownSite(request.params.id);
    return {
      record: held.record,
      signature: held.signature,
      files: held.manifest === null ? 0 : Object.keys(held.manifest.files).length,
      receivedAt: held.receivedAt,
    };
  });

  // GET and HEAD in one route: fastify's own HEAD route would replace the content-length of a body-less answer.
  app.route({
    method: ["GET", "HEAD"],
    url: "/v1/sites/:id/*",
    schema: { params: siteParams.extend({ "*": z.string() }) },
    handler: async (request, reply) => {
      const segments = pathSegments(request, request.params.id);
      const held = heldSite(deps, request.params.id);
      if (held === undefined) return sendNotFound(reply, "No such site on this provider.");
      if (held.manifest === null) {
        return sendPage(reply.status(410), "Site removed", "The owner removed this site.");
      }
      const found = lookupSitePath(held.manifest, segments);
      if (found.kind === "folder") return reply.status(301).header("location", found.location).send();
      if (found.kind === "missing") return sendSiteNotFound(request, reply, deps.publicFiles, held.manifest);
      return sendPublicFile(request, reply, deps.publicFiles, found.file, REVALIDATE);
    },
  });
}

/** The version held of a site id, if the id is well formed and the agent has one. */
function heldSite(deps: SiteRouteDeps, id: string) {
  const siteId = id.toLowerCase();
  return isHexString(siteId, 32) ? deps.sites.current(siteId) : undefined;
}

/**
 * The decoded segments of the path after `/v1/sites/<id>/`, read from the raw URL so that an encoded `..` is
 * seen. A `.` or `..` segment, or one that decodes to a separator or a control character, is refused (400).
 */
function pathSegments(request: FastifyRequest, id: string): string[] {
  const raw = (request.raw.url ?? "").split("?")[0] ?? "";
  const prefix = `/v1/sites/${id}/`;
  const rest = raw.startsWith(prefix) ? raw.slice(prefix.length) : "";
  return rest.split("/").map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new ApiError(400, "BAD_PATH", "the path is not valid percent-encoding");
    }
    if (decoded === "." || decoded === ".." || /[/\\\p{Cc}]/u.test(decoded)) {
      throw new ApiError(
        400,
        "BAD_PATH",
        "a site path has no . or .. segments, separators or control characters",
      );
    }
    return decoded;
  });
}

/** The manifest of `record`, once the agent holds it and every file it names (else 409/422). */
async function checkContent(files: PublicFileSource, record: SiteRecord): Promise<SiteManifest> {
  const stat = await files.stat(record.rootCid);
  if (stat === null) {
    throw new ApiError(
      409,
      "SITE_CONTENT_MISSING",
      `this provider holds no public file ${record.rootCid} (the manifest)`,
    );
  }
  if (stat.size > MAX_SITE_MANIFEST_BYTES) {
    throw new ApiError(
      422,
      "BAD_SITE_MANIFEST",
      `the manifest is ${stat.size} bytes; at most ${MAX_SITE_MANIFEST_BYTES}`,
    );
  }
  let manifest: SiteManifest;
  try {
    manifest = parseSiteManifest(await files.read(record.rootCid, 0, stat.size));
  } catch (error) {
    if (error instanceof StrataError && error.code === "SITE_MANIFEST_INVALID") {
      throw new ApiError(
        422,
        "BAD_SITE_MANIFEST",
        `${error.message}${error.details ? `: ${error.details}` : ""}`,
      );
    }
    throw error;
  }
  const entries = Object.entries(manifest.files);
  for (let at = 0; at < entries.length; at += STAT_BATCH) {
    const batch = entries.slice(at, at + STAT_BATCH);
    const stats = await Promise.all(batch.map(([, file]) => files.stat(file.cid)));
    batch.forEach(([path, file], i) => {
      const held = stats[i];
      if (held === null || held === undefined) {
        throw new ApiError(
          409,
          "SITE_CONTENT_MISSING",
          `this provider holds no public file ${file.cid} (${path})`,
        );
      }
      if (file.contentType !== contentTypeFor(path)) {
        throw new ApiError(
          422,
          "BAD_SITE_MANIFEST",
          `${path}: content type ${file.contentType}; a file with this name is served as ${contentTypeFor(path)}`,
        );
      }
      if (held.size !== file.size) {
        throw new ApiError(
          422,
          "BAD_SITE_MANIFEST",
          `${path}: the manifest says ${file.size} bytes, the public file ${file.cid} has ${held.size}`,
        );
      }
    });
  }
  return manifest;
}

/** True when an If-None-Match header names `etag` (or `*`); weak tags compare equal too (RFC 9110 §13.1.2). */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
}

/**
 * Send a public file: content type, `ETag` = its content id, `cacheControl`, 304 when the client's copy is
 * current, one byte range (206, or 416), the bytes streamed (none for HEAD).
 */
export async function sendPublicFile(
  request: FastifyRequest,
  reply: FastifyReply,
  files: PublicFileSource,
  file: SiteFile,
  cacheControl: string,
  status = 200,
): Promise<FastifyReply> {
  const held = await files.stat(file.cid);
  if (held === null) {
    request.log.warn({ cid: file.cid }, "a site file is no longer held");
    return sendApiError(
      reply,
      new ApiError(503, "SITE_CONTENT_MISSING", `this provider no longer holds ${file.cid}`),
    );
  }
  const etag = `"${file.cid}"`;
  reply
    .header("etag", etag)
    .header("cache-control", cacheControl)
    .header("x-content-type-options", "nosniff")
    .header("accept-ranges", "bytes");
  if (status === 200 && matchesEtag(request.headers["if-none-match"], etag)) return reply.status(304).send();
  const size = held.size;
  const ifRange = request.headers["if-range"];
  const range =
    status === 200 && (ifRange === undefined || ifRange === etag)
      ? parseRange(request.headers.range, size)
      : ({ kind: "whole" } as const);
  if (range.kind === "unsatisfiable") {
    return sendApiError(
      reply.header("content-range", `bytes */${size}`),
      new ApiError(416, "RANGE_NOT_SATISFIABLE", `the file has ${size} bytes`),
    );
  }
  reply.header("content-type", file.contentType);
  const [start, end] = range.kind === "range" ? [range.start, range.end + 1] : [0, size];
  if (range.kind === "range") reply.status(206).header("content-range", `bytes ${start}-${end - 1}/${size}`);
  else reply.status(status);
  reply.header("content-length", String(end - start));
  // No payload for HEAD keeps the content-length set above (fastify would write 0 for an empty one).
  if (request.method === "HEAD") return reply.send();
  if (end === start) return reply.send("");
  return reply.send(files.stream(file.cid, start, end));
}

/** The site's own 404.html if it has one, else a plain page; status 404 either way. */
async function sendSiteNotFound(
  request: FastifyRequest,
  reply: FastifyReply,
  files: PublicFileSource,
  manifest: SiteManifest,
): Promise<FastifyReply> {
  const page = manifest.files["404.html"];
  if (page !== undefined && (await files.stat(page.cid)) !== null) {
    return sendPublicFile(request, reply.header("cache-control", REVALIDATE), files, page, REVALIDATE, 404);
  }
  return sendNotFound(reply, "This site has no such page.");
}

function sendNotFound(reply: FastifyReply, text: string): FastifyReply {
  return sendPage(reply.status(404), "Not found", text);
}

function sendPage(reply: FastifyReply, title: string, text: string): FastifyReply {
  return reply
    .header("content-type", "text/html; charset=utf-8")
    .header("cache-control", REVALIDATE)
    .send(
      `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>\n`,
    );
}

function unknownSite(id: string): ApiError {
  return new ApiError(404, "UNKNOWN_SITE", `no site ${id} on this provider`);
}
