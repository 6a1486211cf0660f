import type { Clock } from "../lib/index.js";
import type { Store } from "../store/index.js";

export interface RollupJobOptions {
  store: Store;
  clock: Clock;
  /** Raw events older than this many days are deleted once rolled up. */
  retentionDays: number;
  batchSize?: number;
}

/**
 * Keeps the hourly and daily roll-ups current and charges credits.
 *
 * Exactly once: each pass takes unmarked events, adds them to the roll-ups, charges their cost
 * to the credit ledger and marks them, all in one transaction (see UsageRollupStore.rollUp). A
 * crash mid-pass rolls everything back and the next pass takes the same events again; a replayed
 * usage batch inserts no row twice (ids are request ids), so it is not counted twice either;
 * several nodes running the job split the work through SKIP LOCKED. A high-water mark on time
 * would miss events that arrive late (a long stream is stamped at its start; a batch flushed after
 * an outage), which is why the mark is on the event itself.
 *
 * Retention: the purge deletes only events already rolled up, so it can never lose usage.
 */
export class UsageRollupJob {
  private running: Promise<number> | null = null;
  private readonly batchSize: number;

  constructor(private readonly o: RollupJobOptions) {
    this.batchSize = o.batchSize ?? 5000;
  }

  /** Rolls up everything pending; returns the number of events counted. Calls never overlap. */
  runOnce(): Promise<number> {
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async drain(): Promise<number> {
    const { store, clock } = this.o;
    let total = 0;
    for (;;) {
      const now = clock.now();
      // Where the store's usage writer runs it: on a SQLite file, its own thread (usage-worker.ts).
      const n = await store.usageWriter.rollUp(now, this.batchSize);
      total += n;
      if (n < this.batchSize) return total;
    }
  }

  /** Deletes rolled-up raw events past the retention period; returns how many. */
  async purge(): Promise<number> {
    await this.runOnce();
    const cutoff = this.o.clock.now() - this.o.retentionDays * 86_400_000;
    // In steps, each where the store's usage writer runs (on a SQLite file, its own thread): one
    // step is one answer from it, well inside the time it is given to answer.
    let total = 0;
    for (;;) {
      const n = await this.o.store.usageWriter.purgeRolled(cutoff, this.batchSize);
      total += n;
      if (n < this.batchSize) return total;
    }
  }
}
