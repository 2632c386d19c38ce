/**
 * Two-way schemas (zod codecs) for the JSON wire form: `parse`/`decode` turns the wire form into typed
 * values (bigints, checksummed addresses), `encode` writes typed values back as JSON. The agent's routes
 * encode their answers with them (fastify-type-provider-zod's serializer) and the SDK client decodes them,
 * so both sides read one definition.
 */
import { getAddress, isAddress } from "ethers";
import { z } from "zod";
import { expected, UINT256_MAX } from "./primitives.js";

export const U32_MAX = (1n << 32n) - 1n;
export const U64_MAX = (1n << 64n) - 1n;
export const U96_MAX = (1n << 96n) - 1n;
export const U128_MAX = (1n << 128n) - 1n;

/** An unsigned integer ≤ `max`: a decimal string (or a safe JSON integer) on the wire, a bigint in code. */
export function uintCodec(max: bigint = UINT256_MAX) {
  return z.codec(
    z.union(
      [
        z
          .string()
          .trim()
          .regex(/^(0|[1-9][0-9]{0,77})$/, "must be a non-negative integer written in decimal digits"),
        z.int("must be a non-negative integer (a decimal string)").min(0),
      ],
      expected("must be a non-negative integer written in decimal digits"),
    ),
    z.bigint().min(0n).max(max, `must be at most ${max}`),
    { decode: (wire) => BigInt(wire), encode: (value) => value.toString() },
  );
}

export const uint256Codec = uintCodec();
export const uint64Codec = uintCodec(U64_MAX);

/** An EVM address: any case on the wire, checksummed in code. */
export const addressCodec = z.codec(
  z
    .string(expected("must be a 0x address of 20 bytes"))
    .trim()
    .refine((value) => isAddress(value), "must be a 0x address of 20 bytes"),
  z.string(),
  { decode: (wire) => getAddress(wire), encode: (value) => value },
);

/** `0x` + 2×`bytes` hex digits, lower case in code. */
export function hexCodec(bytes: number) {
  const pattern = new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`);
  return z.codec(
    z
      .string()
      .trim()
      .regex(pattern, `must be 0x followed by ${bytes * 2} hex digits`),
    z.string(),
    { decode: (wire) => wire.toLowerCase(), encode: (value) => value },
  );
}

export const bytes32Codec = hexCodec(32);

/** An ECDSA (65 bytes) or contract (any length) signature as 0x hex. */
export const signatureCodec = z.codec(
  z
    .string()
    .trim()
    .regex(/^0x([0-9a-fA-F]{2}){1,4096}$/, "must be 0x followed by hex bytes"),
  z.string(),
  { decode: (wire) => wire.toLowerCase(), encode: (value) => value },
);

/**
 * A client's signature of data-set terms or states: like `signatureCodec`, but also empty ("0x"), which a contract
 * wallet client (a repair mandate, permanent storage) validates through ERC-1271 by the digest it approved alone.
 */
export const clientSignatureCodec = z.codec(
  z
    .string()
    .trim()
    .regex(/^0x([0-9a-fA-F]{2}){0,4096}$/, "must be 0x followed by hex bytes"),
  z.string(),
  { decode: (wire) => wire.toLowerCase(), encode: (value) => value },
);
