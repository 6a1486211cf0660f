/**
 * One operation, one transaction, by construction.
 *
 * A transaction opened with `inTransaction` is the context of everything its callback awaits: a
 * store method called there — whether or not it was handed the transaction — reaches the database
 * through `database.db`, which answers that transaction, so it can neither write outside it nor
 * wait for a connection the transaction itself holds (on SQLite, the only one: the wait never
 * ended, and every later database call, the gateway's included, queued behind it). A nested
 * `inTransaction` joins the open one. A query that still finds its way to a fresh connection
 * while the transaction is open (a handle captured before it began) fails at once, by name.
 *
 * Time limits: a transaction that holds its connection longer than the statement timeout is rolled
 * back; on SQLite a caller that waits longer than that for the single connection fails with
 * StoreUnavailableError instead of waiting for ever.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type BetterSqlite3 from "better-sqlite3";
import { CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type Kysely, type TransactionSettings } from "kysely";
import { StoreUnavailableError } from "../errors/index.js";
import type { Tables } from "./schema.js";

interface Frame {
  owner: object;
  trx: Kysely<Tables>;
  open: boolean;
}

const frames = new AsyncLocalStorage<Frame>();
/**
 * Transactions open in this process. While none is, `frames` is disabled: an enabled
 * AsyncLocalStorage keeps Node's async hooks on, and every promise and socket of the request path
 * then pays for a hook call (measured: about 2% of the gateway's CPU). Nothing is lost: a frame
 * reached after its transaction ended is closed and ignored, and `run` enables `frames` again.
 */
let openFrames = 0;

/** The transaction open for `owner` in the caller's context, if any. */
export function openTransaction(owner: object): Kysely<Tables> | undefined {
  const f = frames.getStore();
  return f && f.open && f.owner === owner ? f.trx : undefined;
}

export class TransactionTimeoutError extends StoreUnavailableError {
  constructor(ms: number) {
    super(`a database transaction took longer than ${ms} ms and was rolled back`);
  }
}

/**
 * Runs `fn` in a transaction of `root` owned by `owner`, or in the one already open for `owner`
 * in this context. Past `timeoutMs` the transaction rolls back and the call fails.
 */
export async function runInTransaction<T>(
  owner: object, root: Kysely<Tables>, timeoutMs: number, fn: (trx: Kysely<Tables>) => Promise<T>,
  isolation?: "repeatable read",
): Promise<T> {
  const open = openTransaction(owner);
  if (open) return fn(open);
  const builder = isolation ? root.transaction().setIsolationLevel(isolation) : root.transaction();
  return builder.execute(async (trx) => {
    const frame: Frame = { owner, trx, open: true };
    let timer: NodeJS.Timeout | undefined;
    openFrames++;
    try {
      const limit = new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new TransactionTimeoutError(timeoutMs)), timeoutMs);
      });
      return await Promise.race([frames.run(frame, () => fn(trx)), limit]);
    } finally {
      clearTimeout(timer);
      frame.open = false;
      if (--openFrames === 0) frames.disable();
    }
  });
}

/** How a guarded driver treats SQLite's write lock, which one other connection (the usage thread's) also takes. */
export interface SqliteWriteLock {
  /** The handle under the dialect. */
  handle: Pick<BetterSqlite3.Database, "pragma" | "inTransaction">;
  /** The longest a write waits for the other connection's lock before it fails with SQLITE_BUSY. */
  waitMs: number;
}

export interface GuardOptions {
  /** A caller waiting longer than this for a connection fails with StoreUnavailableError. */
  acquireTimeoutMs?: number;
  /**
   * SQLite: a transaction opened without an isolation level (one that may write) begins IMMEDIATE,
   * and a write that finds the lock taken waits for it without holding the event loop.
   */
  sqliteLock?: SqliteWriteLock;
}

/**
 * Wraps a dialect's driver: a fresh connection asked for while a transaction of `owner` is open in
 * the same context is refused (it would run outside that transaction, or on SQLite wait for ever),
 * and with `acquireTimeoutMs` a wait for a connection is cut.
 */
export function guardDialect(dialect: Dialect, owner: object, options: GuardOptions = {}): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => new GuardedDriver(dialect.createDriver(), owner, options),
  };
}

/**
 * Takes SQLite's write lock without waiting inside SQLite. SQLite's own wait (busy_timeout) sleeps
 * in the calling thread: on the main connection, a write that met the usage thread's roll-up held
 * the event loop, and every request in flight with it, until the roll-up committed (bench/main-writes.ts:
 * the longest event-loop gap was 38 ms, against 6 ms with no main-thread writes). Here the
 * statement runs with no busy wait, and if the lock is taken it is tried again after a pause (1 ms,
 * doubling up to 16) until `waitMs` has passed; then SQLite's error stands, as after its own wait.
 * The statement runs synchronously inside `run` (better-sqlite3), so the wait is restored before
 * anything else can use the handle.
 */
async function takingWriteLock<T>(lock: SqliteWriteLock, run: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + lock.waitMs;
  let waiting = false;
  try {
    for (let pause = 1; ; pause = Math.min(pause * 2, 16)) {
      try {
        return await withoutBusyWait(lock, run);
      } catch (err) {
        if (!isBusy(err) || performance.now() + pause > deadline) throw err;
      }
      if (!waiting) {
        waiting = true;
        lockWaiters++;
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  } finally {
    if (waiting && --lockWaiters === 0) for (const go of lockWaitersGone.splice(0)) go();
  }
}

/** One try: the statement runs (synchronously, in the call) with SQLite's busy wait off. */
function withoutBusyWait<T>(lock: SqliteWriteLock, run: () => Promise<T>): Promise<T> {
  lock.handle.pragma("busy_timeout = 0");
  try {
    return run();
  } catch (err) {
    // better-sqlite3 throws in the call rather than rejecting.
    return Promise.reject(err);
  } finally {
    lock.handle.pragma(`busy_timeout = ${lock.waitMs}`);
  }
}

/** Writes on this thread waiting for the write lock, and who waits for them to have it. */
let lockWaiters = 0;
const lockWaitersGone: (() => void)[] = [];

/**
 * While a write on this thread waits for SQLite's write lock, a promise that resolves once it has
 * it (or has given up); otherwise null. The usage thread's work waits on it before it is sent
 * (usage-worker.ts): the thread writes again as soon as it is asked, so a roll-up of many passes
 * would otherwise keep the lock from one pass to the next and the write waiting until its end.
 */
export function writeLockWanted(): Promise<void> | null {
  return lockWaiters === 0 ? null : new Promise((go) => lockWaitersGone.push(go));
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/**
 * A statement that only reads: WAL readers never wait for the write lock. (A `with` that writes
 * would keep SQLite's own wait; Kysely compiles none here.)
 */
const READS = /^\s*(select|with)\b/i;

class GuardedDriver implements Driver {
  /** The SQLite connection as handed out: its writes outside a transaction take the lock without blocking. */
  private lockingConnection: { inner: DatabaseConnection; outer: DatabaseConnection } | null = null;

  constructor(private readonly inner: Driver, private readonly owner: object, private readonly o: GuardOptions) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (openTransaction(this.owner)) {
      throw new Error("a store call asked for its own database connection inside an open transaction; pass it the transaction");
    }
    const ms = this.o.acquireTimeoutMs;
    if (!ms) return this.handOut(await this.inner.acquireConnection());
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const acquired = this.inner.acquireConnection().then((c) => {
      // Too late: the caller has given up; hand the connection straight back.
      if (timedOut) void this.inner.releaseConnection(c);
      return c;
    });
    const limit = new Promise<never>((_, fail) => {
      timer = setTimeout(() => {
        timedOut = true;
        fail(new StoreUnavailableError(`the database stayed busy for ${ms} ms`));
      }, ms);
    });
    try {
      return this.handOut(await Promise.race([acquired, limit]));
    } finally {
      clearTimeout(timer);
    }
  }

  private handOut(c: DatabaseConnection): DatabaseConnection {
    const lock = this.o.sqliteLock;
    if (!lock) return c;
    if (this.lockingConnection?.inner !== c) {
      const outer: DatabaseConnection = {
        // Inside a transaction the lock is held already (IMMEDIATE) or the transaction only reads.
        executeQuery: (q) => (lock.handle.inTransaction || READS.test(q.sql) ? c.executeQuery(q) : takingWriteLock(lock, () => c.executeQuery(q))),
        streamQuery: (q, chunkSize) => c.streamQuery(q, chunkSize),
      };
      this.lockingConnection = { inner: c, outer };
    }
    return this.lockingConnection.outer;
  }

  /** The dialect's own connection behind one handed out. */
  private unwrap(c: DatabaseConnection): DatabaseConnection {
    return this.lockingConnection?.outer === c ? this.lockingConnection.inner : c;
  }

  /**
   * Two connections write one SQLite file (the usage thread's and this one). A deferred transaction
   * that reads, then writes after the other connection committed, fails at once with SQLITE_BUSY
   * (its snapshot is stale; no busy wait helps). IMMEDIATE takes the write lock first, waiting
   * for it (takingWriteLock). Snapshot reads (an isolation level given) stay deferred and never wait.
   */
  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const lock = this.o.sqliteLock;
    if (lock && !settings.isolationLevel) {
      const inner = this.unwrap(c);
      await takingWriteLock(lock, () => inner.executeQuery(CompiledQuery.raw("begin immediate")));
      return;
    }
    return this.inner.beginTransaction(this.unwrap(c), settings);
  }

  commitTransaction(c: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(this.unwrap(c));
  }

  /**
   * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, …); the
   * explicit rollback that follows then fails with "no transaction is active", and that failure
   * would replace the error that caused it. The transaction is gone either way: the cause stands.
   */
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    try {
      await this.inner.rollbackTransaction(this.unwrap(c));
    } catch (err) {
      if (!/cannot rollback - no transaction is active/.test((err as Error).message)) throw err;
    }
  }

  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(this.unwrap(c));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
