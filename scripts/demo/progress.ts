/**
 * What the demo prints while it runs: numbered steps with the time they took, indented details, and a
 * loud failure with the reason when a step does not behave as it should.
 */
export class DemoFailure extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
    this.name = "DemoFailure";
  }
}

export interface Progress {
  /** Start step `title`; the previous step is closed with its duration. */
  step(title: string): void;
  /** An indented detail line of the current step. */
  detail(line: string): void;
  /** Throw a DemoFailure for the current step unless `condition` holds. */
  check(condition: boolean, message: string): asserts condition;
  /** Close the last step. */
  done(): void;
  /** Title of the current step. */
  readonly current: string;
}

export function consoleProgress(
  write: (line: string) => void = (l) => {
    console.log(l);
  },
): Progress {
  let n = 0;
  let title = "start";
  let started = performance.now();
  const t0 = performance.now();
  const close = () => {
    if (n > 0) write(`    (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  };
  return {
    step(next: string) {
      close();
      n++;
      title = next;
      started = performance.now();
      const at = ((performance.now() - t0) / 1000).toFixed(0).padStart(4);
      write(`\n[${n}] ${next}  (t+${at} s)`);
    },
    detail(line: string) {
      write(`    ${line}`);
    },
    check(condition: boolean, message: string): asserts condition {
      if (!condition) throw new DemoFailure(title, message);
    },
    done() {
      close();
    },
    get current() {
      return title;
    },
  };
}
