import cliProgress from "cli-progress";
import { formatBytes } from "./format/units.js";

/** One bar per piece (label, bytes done, status text), drawn on the terminal; a no-op when disabled. */
export interface PieceBars {
  update(piece: number, done: number, total: number, label: string, status?: string): void;
  status(piece: number, status: string): void;
  log(text: string): void;
  stop(): void;
}

export function pieceBars(enabled: boolean, stream: NodeJS.WritableStream = process.stdout): PieceBars {
  if (!enabled) {
    return { update: () => undefined, status: () => undefined, log: () => undefined, stop: () => undefined };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      format: " {label} [{bar}] {percentage}% | {done}/{size} | {status}",
      hideCursor: true,
      clearOnComplete: false,
      autopadding: true,
      fps: 8,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<number, { bar: cliProgress.SingleBar; label: string; total: number }>();
  const payload = (label: string, done: number, total: number, status: string) => ({
    label,
    done: formatBytes(done),
    size: formatBytes(total),
    status,
  });
  return {
    update(piece, done, total, label, status = "uploading") {
      let entry = bars.get(piece);
      if (entry?.label !== label) {
        if (entry) multi.remove(entry.bar);
        entry = { bar: multi.create(total, done, payload(label, done, total, status)), label, total };
        bars.set(piece, entry);
      }
      entry.bar.update(done, payload(label, done, total, status));
    },
    status(piece, status) {
      const entry = bars.get(piece);
      if (entry)
        entry.bar.update(payload(entry.label, entry.bar.getProgress() * entry.total, entry.total, status));
    },
    log(text) {
      multi.log(`${text}\n`);
    },
    stop() {
      multi.stop();
    },
  };
}
