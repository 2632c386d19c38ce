// The client's local record of its data sets (`strata-datasets.json` next to its manifests): which data set it
// holds with each provider on each market, so that the next `store` adds its pieces there instead of opening a
// new one. It is a hint only: every id read from it is checked on chain (live, same client and provider), and the
// chain's DataSetCreated events find the data set when the record is lost.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { StrataError } from "../errors.js";
import { addressCodec, uint64Codec, uint256Codec } from "../schemas/codecs.js";
import { writeFileAtomic } from "./files.js";

export const DATA_SET_RECORD_FILE = "strata-datasets.json";

const entrySchema = z.object({
  chainId: uint256Codec,
  market: addressCodec,
  client: addressCodec,
  provider: addressCodec,
  dataSetId: uint64Codec,
});
export type DataSetRecordEntry = z.output<typeof entrySchema>;

const recordSchema = z.object({ version: z.literal(1), dataSets: z.array(entrySchema) });

/** Where the record of a manifest at `manifestPath` lives (the same folder). */
export function recordPathFor(manifestPath: string): string {
  return join(dirname(manifestPath), DATA_SET_RECORD_FILE);
}

/** The entries of the record at `path` ([] when there is none). BAD_MANIFEST names a corrupt record. */
export async function loadDataSetRecord(path: string): Promise<DataSetRecordEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new StrataError("BAD_MANIFEST", `${path} is not JSON`, {
      cause,
      details: "delete it: the chain knows your data sets",
    });
  }
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success) {
    throw new StrataError("BAD_MANIFEST", `${path} is not a data set record`, {
      details: "delete it: the chain knows your data sets",
    });
  }
  return parsed.data.dataSets;
}

/** The recorded data set of `client` with `provider` on (chainId, market), or null. */
export function recordedDataSet(
  entries: readonly DataSetRecordEntry[],
  key: Omit<DataSetRecordEntry, "dataSetId">,
): bigint | null {
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const found = entries.findLast(
    (e) =>
      e.chainId === key.chainId &&
      same(e.market, key.market) &&
      same(e.client, key.client) &&
      same(e.provider, key.provider),
  );
  return found?.dataSetId ?? null;
}

/** Add or replace the entry for (chainId, market, client, provider), atomically. */
export async function saveDataSetRecord(path: string, entry: DataSetRecordEntry): Promise<void> {
  const entries = await loadDataSetRecord(path);
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  const kept = entries.filter(
    (e) =>
      !(
        e.chainId === entry.chainId &&
        same(e.market, entry.market) &&
        same(e.client, entry.client) &&
        same(e.provider, entry.provider)
      ),
  );
  const json = {
    version: 1,
    dataSets: [...kept, entry].map((e) => ({
      chainId: e.chainId.toString(),
      market: e.market,
      client: e.client,
      provider: e.provider,
      dataSetId: e.dataSetId.toString(),
    })),
  };
  await writeFileAtomic(path, JSON.stringify(json, null, 2) + "\n");
}
