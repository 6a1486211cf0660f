import { newId } from "../lib/ids.js";
import { chargeRolledUsage, type CreditStore } from "./credits.js";
import type { UsageEvent } from "./types.js";
import type { SpendSubject, UsageGroupRow, UsageQuery, UsageRollupStore } from "./usage-rollups.js";
import type { UsageStore } from "./usage.js";
import type { KeyStore } from "./keys.js";

/**
 * Where usage is written and rolled up: the recorder's batches and the roll-up job's passes. On
 * PostgreSQL (and in-memory SQLite) the store's own connection does it (InlineUsageWriter); on a
 * SQLite file a thread with its own connection does (WorkerUsageWriter), because there every
 * statement runs synchronously on the caller's thread and a batch or a roll-up stalled every
 * request for its whole length.
 */
export interface UsageWriter {
  /** Inserts the batch in one transaction, skipping ids already stored; answers how many were new. */
  insertMany(events: UsageEvent[]): Promise<number>;
  /** Rolls up at most `limit` events and charges their credits, in one transaction; answers how many it counted. */
  rollUp(now: number, limit: number): Promise<number>;
  /**
   * A subject's spend in [start, end), as `UsageRollupStore.periodSpend` reads it: the read the
   * alerts make every second for each subject with a spend limit. It sums the events not yet rolled
   * up besides the roll-ups; on a SQLite file it stalled every request in flight as a batch did.
   */
  periodSpend(subject: SpendSubject, start: number, end: number): Promise<number>;
  /**
   * Deletes at most `limit` raw events older than `before` that are already rolled up (one step of
   * the hourly retention purge); answers how many. Each hour the purge removes an hour of traffic
   * from past the retention period: on a SQLite file every 5,000-row step held the main thread.
   */
  purgeRolled(before: number, limit: number): Promise<number>;
  /**
   * A usage report's rows (`UsageRollupStore.report`): the console's usage page and the reports
   * API. Over a wide range it reads many rows, and on a SQLite file consecutive statements never
   * let the event loop run in between: off the main thread there, like the writes.
   */
  report(q: UsageQuery): Promise<UsageGroupRow[]>;
  /**
   * Records keys' last use (`KeyStore.touch`), batched by the key verifier every few seconds. On a
   * SQLite file a write from the main thread waits, holding the whole event loop, for the usage
   * thread's transaction under way: 20-42 ms behind a 5,000-event roll-up pass, measured.
   */
  touchKeys(lastUsed: Map<string, number>): Promise<void>;
  /** What it has done: rows inserted, batches and roll-up passes, and the time spent on them (where they ran). */
  stats(): UsageWriterStats;
  close(): Promise<void>;
}

export interface UsageWriterStats {
  rows: number;
  batches: number;
  insertMs: number;
  rollups: number;
  rollupMs: number;
  /** False when this time was spent off the main thread. */
  mainThread: boolean;
}

/** The roll-up and its credits charge, in the roll-up's transaction (the same on either writer). */
export function rollUpAndCharge(rollups: UsageRollupStore, credits: CreditStore, now: number, limit: number): Promise<number> {
  return rollups.rollUp(now, limit, (trx, events) => chargeRolledUsage(credits, trx, events, now, () => newId("crd", now)));
}

/** Writes through the store's own connection, on the caller's thread. */
export class InlineUsageWriter implements UsageWriter {
  private readonly counted: UsageWriterStats = { rows: 0, batches: 0, insertMs: 0, rollups: 0, rollupMs: 0, mainThread: true };

  constructor(private readonly s: { usage: UsageStore; rollups: UsageRollupStore; credits: CreditStore; keys: KeyStore }) {}

  async insertMany(events: UsageEvent[]): Promise<number> {
    const t = performance.now();
    try {
      return await this.s.usage.insertMany(events);
    } finally {
      this.counted.rows += events.length;
      this.counted.batches++;
      this.counted.insertMs += performance.now() - t;
    }
  }

  async rollUp(now: number, limit: number): Promise<number> {
    const t = performance.now();
    try {
      return await rollUpAndCharge(this.s.rollups, this.s.credits, now, limit);
    } finally {
      this.counted.rollups++;
      this.counted.rollupMs += performance.now() - t;
    }
  }

  periodSpend(subject: SpendSubject, start: number, end: number): Promise<number> {
    return this.s.rollups.spendOf(subject, start, end);
  }

  purgeRolled(before: number, limit: number): Promise<number> {
    return this.s.rollups.purgeRolled(before, limit);
  }

  report(q: UsageQuery): Promise<UsageGroupRow[]> {
    return this.s.rollups.report(q);
  }

  touchKeys(lastUsed: Map<string, number>): Promise<void> {
    return this.s.keys.touch(lastUsed);
  }

  stats(): UsageWriterStats {
    return { ...this.counted };
  }

  async close(): Promise<void> {}
}
