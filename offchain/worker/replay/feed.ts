/**
 * Feeding indexed market events into the SDK's DataSetReplay (offchain/sdk/datasets/replay.ts), the off-chain
 * copy of each provider's size classes and slots. The market states every change in events: DataSetCreated,
 * DataSetUpdated (a removal is an update to span 0 at the current version), and the provider's next period moves
 * with ProofSubmitted (period + 1), MissedProofsReported (from + count) and ChallengeSeedScheduled (a restart).
 */
import type { DataSetReplay } from "../../sdk/datasets/replay.js";
import type { IndexedEvent } from "../db/events.js";

/** The events that change what a provider must prove (the replay ignores every other kind). */
export const REPLAY_EVENT_KINDS = [
  "DataSetCreated",
  "DataSetUpdated",
  "ProofSubmitted",
  "MissedProofsReported",
  "ChallengeSeedScheduled",
] as const;

export type ReplayEventKind = (typeof REPLAY_EVENT_KINDS)[number];

/** Apply one indexed event to `replay` (chain order); returns false when the event does not concern the replay. */
export function applyToReplay(replay: DataSetReplay, event: IndexedEvent): boolean {
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- every other kind is ignored
  switch (event.kind) {
    case "DataSetCreated":
      replay.apply({ kind: "created", dataSetId: event.dataSetId, provider: event.provider });
      return true;
    case "DataSetUpdated":
      replay.apply({
        kind: "updated",
        dataSetId: event.dataSetId,
        version: event.version,
        root: event.root,
        span: event.span,
        effectivePeriod: event.effectivePeriod,
      });
      return true;
    case "ProofSubmitted":
      advance(replay, event.provider, event.period + 1n);
      return true;
    case "MissedProofsReported":
      advance(replay, event.provider, event.fromPeriod + event.count);
      return true;
    case "ChallengeSeedScheduled":
      advance(replay, event.provider, event.period);
      return true;
    default:
      return false;
  }
}

/** The next period only moves forward; a seed re-scheduled for the same period changes nothing. */
function advance(replay: DataSetReplay, provider: string, nextPeriod: bigint): void {
  if (nextPeriod > replay.nextPeriod(provider))
    replay.apply({ kind: "periodAdvanced", provider, nextPeriod });
}
