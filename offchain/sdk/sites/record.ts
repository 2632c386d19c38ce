/**
 * Site records (docs/SPEC.md, "Sites"): one site id across versions, each version an EIP-712 message the owner
 * signs. The domain binds the chain id and the StorageMarket address, so a record signed for one chain or one
 * market is refused by agents of any other; versions only go up, so an old record cannot be replayed over a newer
 * one. A tombstone (`removed`) is a version like any other: once an agent holds it, it stops serving the site and
 * refuses every older record. A version may also name a permanent file (docs/SPEC.md §16.2) holding the exact bytes
 * of its public payload, paid once: a record with one is signed under a second type that appends the field, so
 * records signed before the field existed keep verifying and the field can be neither stripped nor added.
 */
import {
  AbiCoder,
  keccak256,
  TypedDataEncoder,
  verifyTypedData,
  type Signer,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";
import { StrataError } from "../errors.js";

/** EIP-712 domain name and version of site records (the verifying contract is the StorageMarket). */
export const SITE_DOMAIN = { name: "Strata Sites", version: "1" } as const;

/** A site name: 1..64 characters of lower-case letters, digits, `.`, `-`, `_`, starting with a letter or digit. */
export const SITE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The backend a version's pages call: the compute lease that runs it and the address the pages reach it at. */
export interface SiteBackend {
  leaseId: bigint;
  url: string;
}

/** One signed version of a site. */
export interface SiteRecord {
  /** keccak256(abi.encode(owner, name)): the site's address across versions. */
  siteId: string;
  owner: string;
  name: string;
  /** Strictly increasing from 1. */
  version: bigint;
  /** Content id of the site manifest (a public file); empty in a tombstone. */
  rootCid: string;
  backend: SiteBackend | null;
  /** Unix seconds at signing. */
  createdAt: bigint;
  /** A tombstone: the site is no longer served. */
  removed: boolean;
  /**
   * The permanent file (PermanentStorage file id, >= 1) holding this version's public payload: every file of the
   * version and its site manifest, packed. Absent when the version is not stored permanently.
   */
  permanentFileId?: bigint | undefined;
}

/** The typed-data form: the optional backend flattened (lease 0 and an empty url = none). */
export const SITE_RECORD_TYPES: Record<string, TypedDataField[]> = {
  SiteRecord: [
    { name: "siteId", type: "bytes32" },
    { name: "owner", type: "address" },
    { name: "name", type: "string" },
    { name: "version", type: "uint64" },
    { name: "rootCid", type: "string" },
    { name: "backendLease", type: "uint256" },
    { name: "backendUrl", type: "string" },
    { name: "createdAt", type: "uint64" },
    { name: "removed", type: "bool" },
  ],
};

export const SITE_RECORD_TYPE = TypedDataEncoder.from(SITE_RECORD_TYPES).encodeType("SiteRecord");

/** The typed-data form of a record naming a permanent file: the fields above, then `permanentFileId`. */
export const SITE_RECORD_PERMANENT_TYPES: Record<string, TypedDataField[]> = {
  SiteRecord: [...(SITE_RECORD_TYPES.SiteRecord ?? []), { name: "permanentFileId", type: "uint256" }],
};

export const SITE_RECORD_PERMANENT_TYPE =
  TypedDataEncoder.from(SITE_RECORD_PERMANENT_TYPES).encodeType("SiteRecord");

/** The types `record` is signed under: with the permanent file id when it names one. */
function typesOf(record: SiteRecord): Record<string, TypedDataField[]> {
  return record.permanentFileId === undefined ? SITE_RECORD_TYPES : SITE_RECORD_PERMANENT_TYPES;
}

/** The site-record domain on `chainId` for the StorageMarket at `market`. */
export function siteDomain(chainId: bigint, market: string): TypedDataDomain {
  return { ...SITE_DOMAIN, chainId, verifyingContract: market };
}

/** keccak256(abi.encode(owner, name)), 0x-hex lower case. */
export function siteIdOf(owner: string, name: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["address", "string"], [owner, name])).toLowerCase();
}

function typedMessage(record: SiteRecord): Record<string, unknown> {
  return {
    siteId: record.siteId,
    owner: record.owner,
    name: record.name,
    version: record.version,
    rootCid: record.rootCid,
    backendLease: record.backend?.leaseId ?? 0n,
    backendUrl: record.backend?.url ?? "",
    createdAt: record.createdAt,
    removed: record.removed,
    ...(record.permanentFileId === undefined ? {} : { permanentFileId: record.permanentFileId }),
  };
}

/** The 32-byte digest the owner signs for `record`. */
export function siteRecordDigest(domain: TypedDataDomain, record: SiteRecord): string {
  return TypedDataEncoder.hash(domain, typesOf(record), typedMessage(record));
}

export async function signSiteRecord(
  owner: Signer,
  domain: TypedDataDomain,
  record: SiteRecord,
): Promise<string> {
  checkSiteRecordShape(record);
  return owner.signTypedData(domain, typesOf(record), typedMessage(record));
}

/** Why a record is refused (the agent maps these to HTTP answers). */
export type SiteRecordProblem = "BAD_SHAPE" | "BAD_SITE_ID" | "BAD_SIGNATURE";

export class SiteRecordError extends StrataError {
  constructor(
    readonly problem: SiteRecordProblem,
    message: string,
  ) {
    super("SITE_RECORD_INVALID", message);
  }
}

/**
 * The rules a record obeys whoever signs it: a valid name, the site id of (owner, name), a version from 1, a root
 * content id unless it is a tombstone and none in one, a backend with a lease id and an http(s) url, a permanent
 * file id from 1 and only with content (a tombstone names none).
 */
export function checkSiteRecordShape(record: SiteRecord): void {
  if (!SITE_NAME_PATTERN.test(record.name)) {
    throw new SiteRecordError(
      "BAD_SHAPE",
      `site name ${JSON.stringify(record.name)} is not ${SITE_NAME_PATTERN.source}`,
    );
  }
  if (record.siteId.toLowerCase() !== siteIdOf(record.owner, record.name)) {
    throw new SiteRecordError("BAD_SITE_ID", `site id ${record.siteId} is not keccak256(owner, name)`);
  }
  if (record.version < 1n) throw new SiteRecordError("BAD_SHAPE", "versions start at 1");
  if (record.removed !== (record.rootCid === "")) {
    throw new SiteRecordError("BAD_SHAPE", "a tombstone has no root content id, and only a tombstone");
  }
  if (record.backend !== null) {
    if (record.backend.leaseId < 1n)
      throw new SiteRecordError("BAD_SHAPE", "a backend names its lease (id >= 1)");
    if (!/^https?:\/\/[^\s]+$/.test(record.backend.url)) {
      throw new SiteRecordError(
        "BAD_SHAPE",
        `backend url ${JSON.stringify(record.backend.url)} is not http(s)`,
      );
    }
  }
  if (record.permanentFileId !== undefined) {
    if (record.permanentFileId < 1n) throw new SiteRecordError("BAD_SHAPE", "permanent file ids start at 1");
    if (record.removed) throw new SiteRecordError("BAD_SHAPE", "a tombstone names no permanent file");
  }
}

/**
 * Check `record` was signed by its owner for `domain` (this chain and market). Throws SiteRecordError; returns
 * nothing. A signature made for another chain id or market recovers another address and is refused.
 */
export function verifySiteRecord(domain: TypedDataDomain, record: SiteRecord, signature: string): void {
  checkSiteRecordShape(record);
  let signer: string;
  try {
    signer = verifyTypedData(domain, typesOf(record), typedMessage(record), signature);
  } catch (error) {
    throw new SiteRecordError("BAD_SIGNATURE", `the signature does not parse: ${(error as Error).message}`);
  }
  if (signer.toLowerCase() !== record.owner.toLowerCase()) {
    throw new SiteRecordError("BAD_SIGNATURE", `the record is not signed by its owner ${record.owner}`);
  }
}

/** True when `next` may replace `held` (none held, or a higher version of the same site). */
export function isNewerSiteRecord(held: SiteRecord | null, next: SiteRecord): boolean {
  if (held === null) return true;
  return held.siteId.toLowerCase() === next.siteId.toLowerCase() && next.version > held.version;
}
