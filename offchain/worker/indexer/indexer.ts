/**
 * The block follower. Each `step()` reads the head, checks the indexed tip against the chain (rolling back to
 * the common ancestor after a reorg), fetches the logs of the next confirmed range with one eth_getLogs over
 * the followed contracts (market, registry, retrieval challenges, compute market), and applies them with the new cursor in one database transaction. The range halves
 * when the node says it is too large, and grows back after successes.
 */
import type { Log, Provider } from "ethers";
import { StrataError } from "../../sdk/errors.js";
import type { RetrySettings } from "../config.js";
import type { IndexBatch, IndexedEvent } from "../db/events.js";
import type { WorkerDb } from "../db/index.js";
import type { Logger } from "../../runtime/logger.js";
import type { WorkerMetrics } from "../metrics.js";
import { isRangeTooLarge, withRetry } from "../../runtime/rpc/retry.js";
import { LogDecoder, type FollowedContracts } from "./decode.js";

/** Logs the indexer aims to read per step (each step is one eth_getLogs and one database transaction). */
export const LOGS_PER_STEP = 2_000;
/** Blocks in a fresh indexer's first request. */
const INITIAL_RANGE = 100;

export interface IndexerOptions {
  db: WorkerDb;
  provider: Provider;
  /** The contracts followed (the compute market when configured). */
  deployment: FollowedContracts;
  confirmations: number;
  startBlock: number;
  maxBlockRange: number;
  retry: RetrySettings;
  logger: Logger;
  metrics: WorkerMetrics;
}

export interface StepResult {
  head: number;
  /** Newest block the index may reach (head - confirmations). */
  target: number;
  /** The cursor after the step. */
  indexed: number;
  /** Blocks indexed by this step. */
  blocks: number;
  /** Events written by this step. */
  events: number;
  /** Blocks rolled back by a reorg detected in this step (0: none). */
  rolledBack: number;
  caughtUp: boolean;
}

export interface IndexerStatus {
  head: number | null;
  target: number | null;
  indexed: number | null;
  blocksBehind: number | null;
}

export class Indexer {
  private readonly decoder: LogDecoder;
  private range: number;
  private last: IndexerStatus = { head: null, target: null, indexed: null, blocksBehind: null };

  constructor(private readonly options: IndexerOptions) {
    this.decoder = new LogDecoder(options.deployment);
    // Start small and let the log density decide (adaptRange): a fresh index of a busy market must not
    // fetch its whole history in one request.
    this.range = Math.min(options.maxBlockRange, INITIAL_RANGE);
    // Before the cursor exists: a fresh index is bound to the compute market it will follow from the start.
    options.db.bindComputeMarket(options.deployment.computeMarket ?? null);
    options.db.initCursor(options.startBlock);
    this.last.indexed = options.db.cursor();
  }

  status(): IndexerStatus {
    return { ...this.last };
  }

  private read<T>(label: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.options.retry, label, metrics: this.options.metrics });
  }

  private async chainHash(n: number): Promise<string | null> {
    const block = await this.read(`eth_getBlockByNumber ${n}`, () => this.options.provider.getBlock(n));
    return block?.hash?.toLowerCase() ?? null;
  }

  /** Index the next range of confirmed blocks (or detect a reorg and roll back). */
  async step(): Promise<StepResult> {
    const { db, metrics } = this.options;
    const head = await this.read("eth_blockNumber", () => this.options.provider.getBlockNumber());
    const target = head - this.options.confirmations;
    let cursor = db.cursor() ?? this.options.startBlock - 1;
    const rolledBack = await this.checkReorg(cursor);
    cursor = db.cursor() ?? cursor;
    let blocks = 0;
    let events = 0;
    if (cursor < target) {
      const batch = await this.fetchBatch(cursor + 1, Math.min(target, cursor + this.range));
      db.applyBatch(batch);
      blocks = batch.to - batch.from + 1;
      events = batch.events.length;
      cursor = batch.to;
      metrics.indexedEvents.inc(events);
    }
    const behind = Math.max(0, target - cursor);
    this.last = { head, target, indexed: cursor, blocksBehind: behind };
    metrics.headBlock.set(head);
    metrics.indexedBlock.set(cursor);
    metrics.blocksBehind.set(behind);
    if (events > 0 || rolledBack > 0) {
      metrics.dataSetsTracked.set(db.openDataSetCount());
      metrics.leasesTracked.set(db.openLeaseCount());
    }
    return { head, target, indexed: cursor, blocks, events, rolledBack, caughtUp: cursor >= target };
  }

  /**
   * Step until the index reaches the target (or `maxSteps` steps ran). Logs progress (blocks/s, events/s)
   * every `progressMs` while catching up.
   */
  async catchUp(
    options: { maxSteps?: number; progressMs?: number; shouldStop?: () => boolean } = {},
  ): Promise<StepResult> {
    const started = performance.now();
    let lastLog = started;
    let blocks = 0;
    let events = 0;
    let result: StepResult;
    let steps = 0;
    do {
      result = await this.step();
      steps++;
      blocks += result.blocks;
      events += result.events;
      const now = performance.now();
      if (now - lastLog >= (options.progressMs ?? 5000) && !result.caughtUp) {
        const seconds = (now - started) / 1000;
        this.options.logger.info(
          {
            indexed: result.indexed,
            target: result.target,
            behind: result.target - result.indexed,
            blocksPerSecond: Math.round(blocks / seconds),
            eventsPerSecond: Math.round(events / seconds),
          },
          "catching up",
        );
        lastLog = now;
      }
    } while (!result.caughtUp && steps < (options.maxSteps ?? Infinity) && options.shouldStop?.() !== true);
    if (steps > 1 && blocks > 0) {
      const seconds = (performance.now() - started) / 1000;
      this.options.logger.info(
        { indexed: result.indexed, blocks, events, seconds: Math.round(seconds * 10) / 10 },
        result.caughtUp ? "index caught up" : "index step budget used",
      );
    }
    return result;
  }

  /**
   * Compare the stored hash of the cursor block with the chain's. On a mismatch, find the newest stored block
   * that is still on the chain (binary search: once a block matches, all older ones do) and roll back to it
   * (or to startBlock - 1 when none matches). Returns the blocks rolled back.
   */
  private async checkReorg(cursor: number): Promise<number> {
    const { db } = this.options;
    const stored = db.blockHash(cursor);
    if (stored === undefined) return 0;
    const onChain = await this.chainHash(cursor);
    if (onChain === stored) return 0;
    const candidates = db.recentBlocks().filter((b) => b.number < cursor); // newest first
    let lo = 0; // candidates[lo - 1] known not to match
    let hi = candidates.length; // candidates[hi] known to match (hi = length: none known)
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const candidate = candidates[mid];
      if (candidate === undefined) break;
      if ((await this.chainHash(candidate.number)) === candidate.hash) hi = mid;
      else lo = mid + 1;
    }
    const floor = (db.startBlock() ?? this.options.startBlock) - 1;
    const ancestor = candidates[hi]?.number ?? floor;
    const deleted = db.rollbackTo(ancestor);
    const depth = cursor - ancestor;
    this.options.metrics.reorgs.inc();
    this.options.metrics.reorgDepth.set(depth);
    this.options.logger.warn(
      { indexed: cursor, ancestor, depth, rowsDeleted: deleted, stored, onChain },
      candidates[hi] === undefined
        ? "chain reorganisation deeper than the kept block hashes: indexing again from the start block"
        : "chain reorganisation: rolled the index back to the common ancestor",
    );
    return depth;
  }

  private async fetchBatch(from: number, to: number): Promise<IndexBatch> {
    let end = to;
    for (;;) {
      // The hash of the range's last block, read before and after the logs: if it changed, the chain moved
      // under us mid-request and the logs may belong to an orphaned fork.
      const before = await this.chainHash(end);
      let logs: Log[];
      try {
        logs = await this.getLogs(from, end);
      } catch (error) {
        if (!isRangeTooLarge(error) || end === from) throw error;
        end = from + Math.floor((end - from) / 2);
        this.range = Math.max(1, end - from + 1);
        this.options.logger.debug(
          { from, to: end, range: this.range },
          "eth_getLogs range too large: halving",
        );
        continue;
      }
      const after = await this.chainHash(end);
      if (before === null || before !== after) {
        throw new StrataError(
          "RPC_FAILED",
          `block ${end} changed while its logs were read (reorg in progress)`,
        );
      }
      this.adaptRange(end - from + 1, logs.length);
      return this.batch(from, end, before, logs);
    }
  }

  private getLogs(from: number, to: number): Promise<Log[]> {
    return this.read(`eth_getLogs ${from}..${to}`, () =>
      this.options.provider.getLogs({
        fromBlock: from,
        toBlock: to,
        address: this.decoder.addresses,
        topics: [this.decoder.topics],
      }),
    );
  }

  /**
   * Size the next range for about LOGS_PER_STEP logs, from the density of the range just read: memory per step
   * stays bounded however busy the chain is (a dense stretch is read in several steps), and a quiet chain is
   * read in ranges up to maxBlockRange. The range at most doubles per step, so one empty range cannot jump
   * straight into a dense stretch with a huge request.
   */
  private adaptRange(blocks: number, logs: number): void {
    const ideal = logs === 0 ? blocks * 2 : Math.floor((blocks * LOGS_PER_STEP) / logs);
    this.range = Math.max(1, Math.min(this.options.maxBlockRange, ideal, blocks * 2, this.range * 2));
  }

  private batch(from: number, to: number, toHash: string, logs: readonly Log[]): IndexBatch {
    const sorted = [...logs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
    const events: IndexedEvent[] = [];
    const hashes = new Map<number, string>([[to, toHash]]);
    for (const log of sorted) {
      if (log.removed) continue;
      if (log.blockNumber < from || log.blockNumber > to) continue;
      const known = hashes.get(log.blockNumber);
      const hash = log.blockHash.toLowerCase();
      if (known !== undefined && known !== hash) {
        throw new StrataError(
          "RPC_FAILED",
          `logs of block ${log.blockNumber} came from two forks (reorg in progress)`,
        );
      }
      hashes.set(log.blockNumber, hash);
      try {
        const event = this.decoder.decode(log);
        if (event !== null) events.push(event);
      } catch (error) {
        this.options.logger.warn(
          {
            err: error,
            address: log.address,
            block: log.blockNumber,
            logIndex: log.index,
            topic: log.topics[0],
          },
          "skipping a log that does not decode",
        );
      }
    }
    const blocks = [...hashes]
      .map(([number, hash]) => ({ number, hash }))
      .sort((a, b) => a.number - b.number);
    return { from, to, events, blocks };
  }
}
