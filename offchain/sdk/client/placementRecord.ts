// A signed placement (store.ts PiecePlaced) as JSON text, for the client's catalog: what `store --resume`
// needs to pay for and apply a piece that was uploaded and signed before the store stopped.
import { z } from "zod";
import { addressCodec, uint64Codec, uint256Codec } from "../schemas/codecs.js";
import { hexBytes, safeInt } from "../schemas/primitives.js";
import { StrataError } from "../errors.js";
import type { PiecePlaced } from "./store.js";

const placementSchema = z.object({
  piece: safeInt(),
  provider: addressCodec,
  endpoint: z.string(),
  dataSetId: uint64Codec,
  created: z.boolean(),
  offset: safeInt(),
  height: safeInt(0, 64),
  pricePerTiBMonth: uint256Codec,
  state: z.object({ dataSetId: uint64Codec, version: uint64Codec, root: hexBytes(32), span: uint64Codec }),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
  topUp: uint256Codec,
});

export function placementToJson(placed: PiecePlaced): string {
  return JSON.stringify(placed, (_key, value: unknown) =>
    typeof value === "bigint" ? value.toString() : value,
  );
}

export function placementFromJson(text: string): PiecePlaced {
  const parsed = placementSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new StrataError("CATALOG_DB_ERROR", "a recorded placement is not one this program wrote", {
      details: parsed.error.message,
    });
  }
  return parsed.data;
}
