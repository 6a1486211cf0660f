import { appendFileSync, existsSync, readFileSync, unlinkSync } from "node:fs";
import type { Logger } from "pino";
import type { Store, UsageEvent } from "../store/index.js";

/** Held in memory while there is no spool file to fall back on; beyond it the oldest are dropped (and logged). */
const MAX_PENDING = 200_000;

export interface RecorderOptions {
  intervalMs?: number;
  /** Told of each batch once it is written (alerts, metrics); never on the request path. */
  onWritten?: (batch: readonly UsageEvent[]) => void;
  /**
   * A file that holds batches the database refused (it was unreachable), one JSON event a line,
   * appended and fsynced; replayed when the database answers again. Without it, batches wait in
   * memory.
   */
  spoolFile?: string;
}

/**
 * Usage events buffered and written in batches, one transaction per flush (DESIGN.md: about
 * 1.7 µs a row batched against 16 µs a row one by one).
 *
 * Exactly once: event ids are request ids and a write skips ids already stored, so a batch that is
 * written twice (a replay after a crash between writing and clearing the spool) counts once.
 * Nothing is lost while the database is down: failed batches go to the spool file, which survives
 * a restart and is replayed by the first flush that reaches the database.
 */
export class UsageRecorder {
  private pending: UsageEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly intervalMs: number;
  private dropped = 0;
  private spooling = false;

  constructor(private readonly store: Store, private readonly logger: Logger, private readonly o: RecorderOptions = {}) {
    this.intervalMs = o.intervalMs ?? 100;
    if (o.spoolFile && existsSync(o.spoolFile)) this.schedule(this.intervalMs);
  }

  record(e: UsageEvent): void {
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      this.dropped++;
    }
    this.pending.push(e);
    if (!this.timer) this.schedule(this.intervalMs);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Writes everything pending, and the spool when there is one (waits for a flush under way first). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    const spool = this.o.spoolFile;
    if (this.pending.length === 0 && !(spool && existsSync(spool))) return;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.write(batch).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async write(batch: UsageEvent[]): Promise<void> {
    const spool = this.o.spoolFile;
    try {
      if (spool && existsSync(spool)) await this.replay(spool);
      if (batch.length) {
        await this.store.usage.insertMany(batch);
        this.o.onWritten?.(batch);
      }
      if (this.dropped) {
        this.logger.error({ dropped: this.dropped }, "usage events were dropped while the database was unreachable and no spool file was set");
        this.dropped = 0;
      }
    } catch (err) {
      if (spool && this.appendToSpool(spool, batch)) {
        if (!this.spooling) this.logger.warn({ err, spool }, "usage write failed; spooling usage to disk until the database answers");
        this.spooling = true;
      } else {
        this.logger.warn({ err, events: batch.length }, "usage flush failed; will retry");
        this.pending = batch.concat(this.pending);
      }
      this.schedule(this.intervalMs * 10);
    }
  }

  private appendToSpool(spool: string, batch: UsageEvent[]): boolean {
    try {
      appendFileSync(spool, batch.map((e) => `${JSON.stringify(e)}\n`).join(""), { flush: true });
      return true;
    } catch (err) {
      this.logger.error({ err, spool }, "cannot write the usage spool; keeping usage in memory");
      return false;
    }
  }

  /** Writes the spooled events (skipping any already stored), then removes the file. */
  private async replay(spool: string): Promise<void> {
    const events: UsageEvent[] = [];
    let unreadable = 0;
    for (const line of readFileSync(spool, "utf8").split("\n")) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as UsageEvent);
      } catch {
        unreadable++; // a line cut short by a crash while it was being appended
      }
    }
    if (unreadable) this.logger.error({ unreadable, spool }, "unreadable lines in the usage spool were skipped");
    const inserted = await this.store.usage.insertMany(events);
    unlinkSync(spool);
    this.spooling = false;
    this.o.onWritten?.(events);
    this.logger.info({ events: events.length, inserted }, "spooled usage replayed");
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(flushOnTimer, ms, this);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function flushOnTimer(r: UsageRecorder): void {
  void r.flush();
}
