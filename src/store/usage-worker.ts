import { Worker } from "node:worker_threads";
import type BetterSqlite3 from "better-sqlite3";
import type { Logger } from "pino";
import type { UsageEvent } from "./types.js";
import type { UsageThreadAnswer, UsageThreadData, UsageThreadRequest, WalCheckpoint } from "./usage-thread.js";
import type { UsageWriter, UsageWriterStats } from "./usage-writer.js";
import { packUsage, type UsageStore } from "./usage.js";
import { writeLockWanted } from "./transaction.js";
import type { SpendSubject, UsageGroupRow, UsageQuery } from "./usage-rollups.js";

/** Requests waiting for the thread at most; past it a write fails at once (the recorder keeps or spools it). */
const MAX_WAITING = 64;

export interface WorkerUsageWriterOptions {
  /** The SQLite file (not ":memory:": the thread opens its own connection to it). */
  file: string;
  statementTimeoutMs: number;
  /** The main connection's usage store: the thread clears durable leases on write when it does. */
  usage: UsageStore;
  logger: Pick<Logger, "error" | "info">;
  /**
   * The main connection to the file, whose WAL checkpoints the thread takes over. SQLite runs a
   * checkpoint inside the commit that takes the WAL past 1,000 pages, on whichever connection
   * commits; on the main one that held the event loop (main-thread writes during a roll-up: longest
   * event-loop gap 11-16 ms with it, 6-10 without, six runs each). The thread's own commits still
   * checkpoint so, and its timer covers the main connection's writes while it has nothing to write.
   */
  mainConnection?: Pick<BetterSqlite3.Database, "pragma">;
  /** How often the thread checkpoints on its timer (default 10 s). */
  checkpointEveryMs?: number;
}

/** A request before it is numbered (Omit over each member of the union). */
type Unnumbered<T> = T extends unknown ? Omit<T, "id"> : never;

interface Waiting {
  ok: (value: unknown) => void;
  fail: (err: Error) => void;
  timer: NodeJS.Timeout;
  op: UsageThreadRequest["op"];
  rows: number;
  /** The thread asked: when it ends, only its own requests fail (a new one may have been started meanwhile). */
  worker: Worker;
}

/**
 * Usage batches and roll-ups on a SQLite file, written by a thread with its own connection: the
 * main thread packs a batch into one flat array, posts it and awaits the answer, so a 4 ms insert
 * or a 10 ms roll-up no longer stalls the requests in flight. WAL lets the main connection read
 * meanwhile; the two connections' writes take turns, the main one waiting for the lock without
 * holding the event loop (transaction.ts).
 *
 * Failures look like a database's: an answer with the error's code, a thread that died (logged,
 * started again on the next request), or one that does not answer within twice the statement
 * timeout (ended, then the same). The recorder then keeps or spools the batch as it does for a
 * database that is down; ids make a batch the thread wrote before dying count once when re-sent.
 */
export class WorkerUsageWriter implements UsageWriter {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;
  private started = 0;
  private readonly counted: UsageWriterStats = { rows: 0, batches: 0, insertMs: 0, rollups: 0, rollupMs: 0, mainThread: false };

  private readonly checkpoints: NodeJS.Timeout | null = null;

  constructor(private readonly o: WorkerUsageWriterOptions) {
    // Started now, with the app: loading the thread's modules takes a few hundred milliseconds,
    // which the first batch would otherwise wait for. A thread that ends is started again on demand.
    this.start();
    if (o.mainConnection) {
      o.mainConnection.pragma("wal_autocheckpoint = 0");
      // A checkpoint that fails, or finds the thread behind, is taken by the next one or by the thread's next commit.
      this.checkpoints = setInterval(() => void this.checkpoint().catch(() => undefined), o.checkpointEveryMs ?? 10_000);
      this.checkpoints.unref();
    }
  }

  /** A passive checkpoint on the thread: what SQLite answers. */
  checkpoint(): Promise<WalCheckpoint> {
    return this.ask<WalCheckpoint>({ op: "checkpoint" }, 0);
  }

  insertMany(events: UsageEvent[]): Promise<number> {
    if (events.length === 0) return Promise.resolve(0);
    return this.ask({ op: "insert", rows: packUsage(events), clearLeases: this.o.usage.clearingLeases }, events.length);
  }

  rollUp(now: number, limit: number): Promise<number> {
    return this.ask({ op: "rollUp", now, limit }, 0);
  }

  report(q: UsageQuery): Promise<UsageGroupRow[]> {
    return this.ask<UsageGroupRow[]>({ op: "report", query: q }, 0);
  }

  purgeRolled(before: number, limit: number): Promise<number> {
    return this.ask({ op: "purge", before, limit }, 0);
  }

  periodSpend(subject: SpendSubject, start: number, end: number): Promise<number> {
    return this.ask({ op: "periodSpend", subject: { type: subject.type, id: subject.id }, start, end }, 0);
  }

  async touchKeys(lastUsed: Map<string, number>): Promise<void> {
    if (lastUsed.size > 0) await this.ask({ op: "touch", lastUsed: [...lastUsed] }, 0);
  }

  /**
   * Sets a pragma on the thread's connection, as on the main one: both must agree on settings that
   * are per connection (tests cap max_page_count on both to provoke a full disk).
   */
  async pragma(text: string): Promise<void> {
    await this.ask({ op: "pragma", text }, 0);
  }

  stats(): UsageWriterStats {
    return { ...this.counted };
  }

  /** Waits for what was asked, closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.checkpoints) {
      clearInterval(this.checkpoints);
      // Without the thread, the main connection checkpoints again (SQLite's default).
      this.o.mainConnection!.pragma("wal_autocheckpoint = 1000");
    }
    const w = this.worker;
    if (w) await this.ask({ op: "close" }, 0).catch(() => undefined);
    this.closed = true;
    if (w) await w.terminate();
  }

  /** The thread, for tests: a crash is its ending. */
  get thread(): Worker | null {
    return this.worker;
  }

  private ask<T = number>(m: Unnumbered<UsageThreadRequest>, rows: number): Promise<T> {
    if (this.closed) return Promise.reject(threadError("the usage writer is closed", "USAGE_WRITER_CLOSED"));
    if (this.waiting.size >= MAX_WAITING) return Promise.reject(threadError("the usage writer thread is behind", "USAGE_THREAD_BEHIND"));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<T>((ok, fail) => {
      const timer = setTimeout(() => this.hung(worker, id), this.o.statementTimeoutMs * 2);
      timer.unref();
      this.waiting.set(id, { ok: ok as (value: unknown) => void, fail, timer, op: m.op, rows, worker });
      this.send(worker, { ...m, id } as UsageThreadRequest);
    });
  }

  /**
   * Requests held back, in order, while a write on the main connection waits for the write lock:
   * the thread takes the lock again for each request it is sent, so a roll-up's passes or a run of
   * batches would keep that write waiting (without holding the event loop, but waiting). Held, they
   * leave once it has the lock.
   */
  private held: { worker: Worker; m: UsageThreadRequest }[] | null = null;

  private send(worker: Worker, m: UsageThreadRequest): void {
    if (this.held) {
      this.held.push({ worker, m });
      return;
    }
    const wanted = writeLockWanted();
    if (!wanted) {
      worker.postMessage(m);
      return;
    }
    const held = (this.held = [{ worker, m }]);
    void wanted.then(() => {
      this.held = null;
      // A request whose thread has ended meanwhile was failed with it (failAll); not sent again.
      for (const h of held) if (this.waiting.get(h.m.id)?.worker === h.worker) h.worker.postMessage(h.m);
    });
  }

  private start(): Worker {
    const data: UsageThreadData = { file: this.o.file, statementTimeoutMs: this.o.statementTimeoutMs };
    const worker = new Worker(threadScript(), { workerData: data });
    // The app closes it; a test or a CLI that forgets must still be able to exit.
    worker.unref();
    worker.on("message", (a: UsageThreadAnswer) => this.answer(a));
    worker.on("error", (err) => this.o.logger.error({ err }, "the usage writer thread failed; usage is kept or spooled and the thread is started again"));
    worker.on("exit", (code) => {
      if (this.worker === worker) this.worker = null;
      this.failAll(worker, threadError(`the usage writer thread ended (exit code ${code})`, "USAGE_THREAD_EXITED"));
    });
    if (this.started++ > 0) this.o.logger.info({ starts: this.started }, "usage writer thread started again");
    this.worker = worker;
    return worker;
  }

  private answer(a: UsageThreadAnswer): void {
    const w = this.waiting.get(a.id);
    if (!w) return;
    this.waiting.delete(a.id);
    clearTimeout(w.timer);
    if (!a.ok) {
      w.fail(Object.assign(new Error(a.error.message), { name: a.error.name, code: a.error.code }));
      return;
    }
    if (w.op === "insert") {
      this.counted.rows += w.rows;
      this.counted.batches++;
      this.counted.insertMs += a.ms;
    } else if (w.op === "rollUp") {
      this.counted.rollups++;
      this.counted.rollupMs += a.ms;
    }
    w.ok(a.value);
  }

  /** No answer in time: the thread is ended (its transaction rolls back) and started again on the next request. */
  private hung(worker: Worker, id: number): void {
    if (!this.waiting.has(id)) return;
    this.o.logger.error({ timeoutMs: this.o.statementTimeoutMs * 2 }, "the usage writer thread did not answer in time; it is ended and started again");
    if (this.worker === worker) this.worker = null;
    this.failAll(worker, threadError("the usage writer thread did not answer in time", "USAGE_THREAD_TIMEOUT"));
    void worker.terminate();
  }

  private failAll(worker: Worker, err: Error): void {
    for (const [id, w] of this.waiting) {
      if (w.worker !== worker) continue;
      clearTimeout(w.timer);
      this.waiting.delete(id);
      w.fail(err);
    }
  }
}

function threadError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * The thread's script. Node runs only JavaScript in a worker: from src/ (the tests, whose TypeScript
 * vitest compiles) it is the build's copy, which the suite's global setup keeps newer than src/.
 */
function threadScript(): URL {
  return import.meta.url.endsWith(".ts")
    ? new URL("../../dist/src/store/usage-thread.js", import.meta.url)
    : new URL("./usage-thread.js", import.meta.url);
}
