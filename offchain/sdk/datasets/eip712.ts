// EIP-712 messages of data sets (docs/SPEC.md, "Data sets"; design §2). The domain binds the chain and the market
// contract; creation nonces and strictly increasing state versions bind each message to one use.
import {
  TypedDataEncoder,
  verifyTypedData,
  type Signer,
  type TypedDataDomain,
  type TypedDataField,
} from "ethers";

/** EIP-712 domain name and version of the data-set StorageMarket. */
export const DATA_SET_DOMAIN = { name: "Strata StorageMarket", version: "2" } as const;

/** The market's EIP-712 domain on `chainId` at `market`. */
export function dataSetDomain(chainId: bigint, market: string): TypedDataDomain {
  return { ...DATA_SET_DOMAIN, chainId, verifyingContract: market };
}

/** Terms a client signs to open a data set with a provider (the provider submits them with the signature). */
export interface CreateDataSet {
  client: string;
  provider: string;
  /** Token base units per TiB (2^40 bytes) per 30 days (2,592,000 s). */
  pricePerTiBMonth: bigint;
  /** Token base units of provider collateral per TiB of class capacity. */
  collateralPerTiB: bigint;
  /** Notice, in proving periods. */
  noticePeriods: bigint;
  nonce: bigint;
  /** Unix time after which the market refuses the message. */
  deadline: bigint;
}

/** A data set's signed state: its root and span (in 64-byte leaves) at `version` (strictly increasing). */
export interface DataSetState {
  dataSetId: bigint;
  version: bigint;
  root: string;
  span: bigint;
}

/**
 * What a session key may sign for a client. On chain the client grants it with `authorizeSessionKey` (a
 * transaction); this signed form lets an application show its grant to a provider before the grant is indexed.
 */
export interface SessionKeyScope {
  client: string;
  key: string;
  /** The provider whose data sets the key may update; the zero address = any of the client's data sets. */
  provider: string;
  /** Cap on the span (leaves) a session-signed state may set. */
  maxSpan: bigint;
  /** Unix time from which the key is no longer valid. */
  expiry: bigint;
}

export const CREATE_DATA_SET_TYPES: Record<string, TypedDataField[]> = {
  CreateDataSet: [
    { name: "client", type: "address" },
    { name: "provider", type: "address" },
    { name: "pricePerTiBMonth", type: "uint128" },
    { name: "collateralPerTiB", type: "uint128" },
    { name: "noticePeriods", type: "uint32" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint64" },
  ],
};

export const DATA_SET_STATE_TYPES: Record<string, TypedDataField[]> = {
  DataSetState: [
    { name: "dataSetId", type: "uint64" },
    { name: "version", type: "uint64" },
    { name: "root", type: "bytes32" },
    { name: "span", type: "uint64" },
  ],
};

export const SESSION_KEY_SCOPE_TYPES: Record<string, TypedDataField[]> = {
  SessionKeyScope: [
    { name: "client", type: "address" },
    { name: "key", type: "address" },
    { name: "provider", type: "address" },
    { name: "maxSpan", type: "uint64" },
    { name: "expiry", type: "uint64" },
  ],
};

/** The type strings (what the contract's type hashes are keccak256 of). */
export const CREATE_DATA_SET_TYPE = TypedDataEncoder.from(CREATE_DATA_SET_TYPES).encodeType("CreateDataSet");
export const DATA_SET_STATE_TYPE = TypedDataEncoder.from(DATA_SET_STATE_TYPES).encodeType("DataSetState");
export const SESSION_KEY_SCOPE_TYPE =
  TypedDataEncoder.from(SESSION_KEY_SCOPE_TYPES).encodeType("SessionKeyScope");

/** The 32-byte digest a signer signs for `terms` (what `_hashTypedDataV4(structHash)` returns on chain). */
export function createDataSetDigest(domain: TypedDataDomain, terms: CreateDataSet): string {
  return TypedDataEncoder.hash(domain, CREATE_DATA_SET_TYPES, terms);
}

/** The EIP-712 struct hash of `terms` (keccak256(abi.encode(typeHash, fields...))). */
export function createDataSetStructHash(terms: CreateDataSet): string {
  return TypedDataEncoder.hashStruct("CreateDataSet", CREATE_DATA_SET_TYPES, terms);
}

/** The digest a client or session key signs for `state`. */
export function dataSetStateDigest(domain: TypedDataDomain, state: DataSetState): string {
  return TypedDataEncoder.hash(domain, DATA_SET_STATE_TYPES, state);
}

/** The EIP-712 struct hash of `state`. */
export function dataSetStateStructHash(state: DataSetState): string {
  return TypedDataEncoder.hashStruct("DataSetState", DATA_SET_STATE_TYPES, state);
}

/** The digest a client signs for a session-key scope. */
export function sessionKeyScopeDigest(domain: TypedDataDomain, scope: SessionKeyScope): string {
  return TypedDataEncoder.hash(domain, SESSION_KEY_SCOPE_TYPES, scope);
}

/** Sign data-set terms as the client. */
export async function signCreateDataSet(
  client: Signer,
  domain: TypedDataDomain,
  terms: CreateDataSet,
): Promise<string> {
  return client.signTypedData(domain, CREATE_DATA_SET_TYPES, terms);
}

/** Sign a data-set state as the client or one of its session keys. */
export async function signDataSetState(
  signer: Signer,
  domain: TypedDataDomain,
  state: DataSetState,
): Promise<string> {
  return signer.signTypedData(domain, DATA_SET_STATE_TYPES, state);
}

/** Sign a session key's scope as the client. */
export async function signSessionKeyScope(
  client: Signer,
  domain: TypedDataDomain,
  scope: SessionKeyScope,
): Promise<string> {
  return client.signTypedData(domain, SESSION_KEY_SCOPE_TYPES, scope);
}

/**
 * The address that signed `terms` (65-byte ECDSA only; a contract wallet's ERC-1271 signature needs a chain call
 * to `isValidSignature` and is checked by the market).
 */
export function recoverCreateDataSetSigner(
  domain: TypedDataDomain,
  terms: CreateDataSet,
  signature: string,
): string {
  return verifyTypedData(domain, CREATE_DATA_SET_TYPES, terms, signature);
}

/** The address that signed `state` (65-byte ECDSA only, see recoverCreateDataSetSigner). */
export function recoverDataSetStateSigner(
  domain: TypedDataDomain,
  state: DataSetState,
  signature: string,
): string {
  return verifyTypedData(domain, DATA_SET_STATE_TYPES, state, signature);
}

/** The address that signed `scope` (65-byte ECDSA only). */
export function recoverSessionKeyScopeSigner(
  domain: TypedDataDomain,
  scope: SessionKeyScope,
  signature: string,
): string {
  return verifyTypedData(domain, SESSION_KEY_SCOPE_TYPES, scope, signature);
}

/** True when `signature` over `state` recovers to `expected` (case-insensitive); false on any malformed input. */
export function isDataSetStateSignedBy(
  domain: TypedDataDomain,
  state: DataSetState,
  signature: string,
  expected: string,
): boolean {
  try {
    return recoverDataSetStateSigner(domain, state, signature).toLowerCase() === expected.toLowerCase();
  } catch {
    return false;
  }
}
