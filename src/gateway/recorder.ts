import { appendFileSync, closeSync, createReadStream, existsSync, openSync, readSync, statSync, unlinkSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Logger } from "pino";
import type { Store, UsageEvent } from "../store/index.js";
import { NO_ENTRY, NoJournal, type Journal, type JournalWaiter } from "./journal.js";

/** Held in memory while there is no spool file to fall back on; beyond it the oldest are dropped (and logged). */
const MAX_PENDING = 200_000;
/** Spooled events written per transaction when a spool is replayed. */
const REPLAY_CHUNK = 5_000;
/** Pending events written per transaction. */
const WRITE_CHUNK = 2_000;

export interface RecorderOptions {
  /**
   * How often pending events are written (100 ms). Waiting that long, every event outlives the
   * young generation: V8's heap profiler puts about 210 bytes a JSON request there from the event
   * alone. Measured with bench/gateway.ts (JSON, 32 connections): every 10 ms the bytes a request
   * sends to the old generation fell from 636 to 400, but the usage thread then took batches of 42
   * rows at 25 µs a row instead of 545 at 10.6; every 25 ms, 136 rows at 14.3 µs and 633 bytes.
   * The usage thread's time is the dearer.
   */
  intervalMs?: number;
  /** Told of each batch once it is written (alerts, metrics); never on the request path. */
  onWritten?: (batch: readonly UsageEvent[]) => void;
  /**
   * A file that holds batches the database refused (it was unreachable), one JSON event a line,
   * appended and fsynced; replayed when the database answers again. Without it, batches wait in
   * memory.
   */
  spoolFile?: string;
  /** Durable metering: each event is journaled before it waits for a batch (journal.ts); without one, nothing is. */
  journal?: Journal;
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
  /** The spool file holds events not yet written (found at start, then kept here). */
  private spooled: boolean;
  /** Lines at the head of the spool already written by a replay that failed part way. */
  private replayedLines = 0;
  /** Why the last write failed, until one succeeds. */
  private problem: string | null = null;
  /** After a failed write the timer waits until then; new events do not bring the retry forward. */
  private retryAt = 0;

  constructor(private readonly store: Store, private readonly logger: Logger, private readonly o: RecorderOptions = {}) {
    this.intervalMs = o.intervalMs ?? 100;
    this.journal = o.journal ?? new NoJournal();
    this.spooled = o.spoolFile !== undefined && existsSync(o.spoolFile);
    if (this.spooled) this.schedule();
  }

  /** Where reservations are journaled before a request leaves. */
  readonly journal: Journal;

  /**
   * Journals the event, then queues it for the next batch. A waiter is told once the line is
   * written (group-committed by the usage journal; at once without one); without a waiter the
   * line is written before this returns.
   */
  record(e: UsageEvent, waiter?: JournalWaiter, entry = NO_ENTRY): void {
    if (waiter) this.journal.nextWaits(waiter);
    this.journal.settle(e, entry);
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      this.dropped++;
    }
    this.pending.push(e);
    this.schedule();
  }

  /** Writes everything pending, and the spool when there is one (waits for a flush under way first). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0 && !this.spooled) return;
    this.flushing = this.writePending().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  /**
   * What is pending, in transactions of at most WRITE_CHUNK events: after an outage or a full disk
   * the backlog is written in bounded steps (one transaction of 40,000 events filled the disk again).
   * Only what was pending when it began: events recorded while a write is under way wait for the
   * next timer. A write that takes a while (a round trip to the usage thread) otherwise found new
   * events every time and wrote again at once: batches of ~130 events back to back, not one per 100 ms.
   */
  private async writePending(): Promise<void> {
    let left = this.pending.length;
    do {
      const n = Math.min(left, WRITE_CHUNK, this.pending.length);
      const batch = n === this.pending.length ? this.pending : this.pending.splice(0, n);
      if (batch === this.pending) this.pending = [];
      left = n === 0 ? 0 : left - n;
      if (!(await this.write(batch))) return;
    } while (left > 0);
  }

  /** "ok", or why usage cannot be written now (for /readyz): the disk full, or the store's own error code. */
  writeHealth(): string {
    return this.problem ?? "ok";
  }

  /** The timer's flush: waits out the backoff after a failed write. */
  flushWhenDue(): void {
    this.timer = null;
    if (Date.now() < this.retryAt) this.schedule();
    else void this.flush();
  }

  private async write(batch: UsageEvent[]): Promise<boolean> {
    try {
      if (this.spooled) await this.replay(this.o.spoolFile!);
      if (batch.length) await this.store.usageWriter.insertMany(batch);
    } catch (err) {
      this.notice(err);
      this.keep(batch, err);
      this.retryAt = Date.now() + this.intervalMs * 10;
      this.schedule();
      return false;
    }
    if (this.problem) this.logger.info({ was: this.problem }, "usage is written again");
    this.problem = null;
    this.retryAt = 0;
    this.journal.durable(batch, this.pending);
    if (this.dropped) {
      this.logger.error({ dropped: this.dropped }, "usage events were dropped: the database was unreachable and nothing could hold them");
      this.dropped = 0;
    }
    if (batch.length) this.tell(batch);
    return true;
  }

  /** A failed write's real cause, logged once per cause (a rollback's own failure can hide it). */
  private notice(err: unknown): void {
    const code = causeCode(err);
    const problem = code === "SQLITE_FULL" || code === "ENOSPC" ? `disk full (${code})` : `failing (${code ?? "error"})`;
    if (problem === this.problem) return;
    this.problem = problem;
    if (problem.startsWith("disk full")) this.logger.error({ err, code }, "usage cannot be written: the disk is full; it is kept in memory and written in bounded batches when space returns");
  }

  /** A batch the database refused: to the spool when there is one, else back to the head of the queue. */
  private keep(batch: UsageEvent[], err: unknown): void {
    const spool = this.o.spoolFile;
    if (spool && (batch.length === 0 || this.appendToSpool(spool, batch))) {
      if (!this.spooled) this.logger.warn({ err, spool }, "usage write failed; spooling usage to disk until the database answers");
      this.spooled = this.spooled || batch.length > 0;
      this.journal.durable(batch, this.pending);
      return;
    }
    this.logger.warn({ err, events: batch.length }, "usage flush failed; will retry");
    this.pending = batch.concat(this.pending);
  }

  private appendToSpool(spool: string, batch: UsageEvent[]): boolean {
    try {
      // A line cut short by a crash stays unreadable, but must not swallow the next event.
      const lead = existsSync(spool) && !endsWithNewline(spool) ? "\n" : "";
      appendFileSync(spool, lead + batch.map((e) => `${JSON.stringify(e)}\n`).join(""), { flush: true });
      return true;
    } catch (err) {
      this.logger.error({ err, spool }, "cannot write the usage spool; keeping usage in memory");
      return false;
    }
  }

  /**
   * Writes the spooled events in chunks, read line by line (a long outage makes a spool larger
   * than a string can hold), skipping ids already stored; then removes the file. A replay that
   * fails part way resumes after the lines it wrote.
   */
  private async replay(spool: string): Promise<void> {
    let chunk: UsageEvent[] = [];
    let line = 0;
    let unreadable = 0;
    let inserted = 0;
    const writeChunk = async () => {
      inserted += await this.store.usageWriter.insertMany(chunk);
      this.replayedLines = line;
      this.tell(chunk);
      chunk = [];
    };
    for await (const text of createInterface({ input: createReadStream(spool), crlfDelay: Infinity })) {
      if (!text || ++line <= this.replayedLines) continue;
      try {
        chunk.push(JSON.parse(text) as UsageEvent);
      } catch {
        unreadable++; // a line cut short by a crash while it was being appended
      }
      if (chunk.length === REPLAY_CHUNK) await writeChunk();
    }
    if (chunk.length) await writeChunk();
    unlinkSync(spool);
    this.spooled = false;
    this.replayedLines = 0;
    if (unreadable) this.logger.error({ unreadable, spool }, "unreadable lines in the usage spool were skipped");
    this.logger.info({ lines: line, inserted }, "spooled usage replayed");
  }

  /** Hands written events to their consumers; a consumer's failure is not a failed write. */
  private tell(batch: readonly UsageEvent[]): void {
    try {
      this.o.onWritten?.(batch);
    } catch (err) {
      this.logger.warn({ err }, "a consumer of written usage failed");
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(flushOnTimer, Math.max(this.intervalMs, this.retryAt - Date.now()), this);
    this.timer.unref();
  }

  /** Events waiting in memory, and the spool file's size (read only when asked: at a metrics scrape). */
  backlog(): { queued: number; spoolBytes: number } {
    let spoolBytes = 0;
    if (this.spooled) {
      try {
        spoolBytes = statSync(this.o.spoolFile!).size;
      } catch {
        spoolBytes = 0; // replayed and removed meanwhile
      }
    }
    return { queued: this.pending.length, spoolBytes };
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function flushOnTimer(r: UsageRecorder): void {
  r.flushWhenDue();
}

function endsWithNewline(file: string): boolean {
  const size = statSync(file).size;
  if (size === 0) return true;
  const fd = openSync(file, "r");
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** The first error code found along an error's causes (SQLite's, PostgreSQL's or the system's). */
function causeCode(err: unknown): string | null {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (typeof e.code === "string") return e.code;
  }
  return null;
}
