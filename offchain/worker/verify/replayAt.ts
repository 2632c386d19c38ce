/**
 * A provider's DataSetReplay as of a position in the index, persisted in SQLite so that memory stays bounded (one
 * provider's replay is held at a time, only while it is used) and restarts cost little: the newest checkpoint
 * strictly before the position is restored and the indexed events after it are applied. Checkpoints are chain-
 * derived rows (replay_checkpoints): a reorg deletes those above the common ancestor together with the events, so
 * the replay is always a function of the events the index holds — rebuilt from an older checkpoint, or from the
 * provider's first event when none is left.
 */
import { DataSetReplay, REPLAY_SNAPSHOT_FORMAT, type ReplaySnapshot } from "../../sdk/datasets/replay.js";
import type { Before, WorkerDb } from "../db/index.js";
import { applyToReplay } from "../replay/feed.js";

export interface ReplayAt {
  replay: DataSetReplay;
  /** Events applied on top of the checkpoint (0: the checkpoint was current). */
  applied: number;
}

/** The replay of `provider` with every indexed event strictly before `before` applied; checkpoints it there. */
export function replayBefore(db: WorkerDb, provider: string, before: Before): ReplayAt {
  const saved = db.replayCheckpoint(provider, before);
  const snapshot = saved === undefined ? undefined : (JSON.parse(saved.snapshot) as ReplaySnapshot);
  // A checkpoint of an older format (the power-of-two classes before draw classes) is not restored: the replay starts
  // over from the provider's first event.
  const checkpoint = snapshot?.format === REPLAY_SNAPSHOT_FORMAT ? saved : undefined;
  const replay =
    checkpoint === undefined || snapshot === undefined
      ? new DataSetReplay()
      : DataSetReplay.fromSnapshot(snapshot);
  const events = db.replayEvents(provider, { ...(checkpoint ? { after: checkpoint.at } : {}), before });
  for (const event of events) applyToReplay(replay, event);
  const last = events.at(-1);
  if (last !== undefined) {
    db.putReplayCheckpoint(
      provider,
      { blockNumber: last.blockNumber, logIndex: last.logIndex },
      JSON.stringify(replay.toSnapshot()),
    );
  }
  return { replay, applied: events.length };
}
