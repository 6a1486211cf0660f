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

/**
 * Wraps a dialect's driver: a fresh connection asked for while a transaction of `owner` is open in
 * the same context is refused (it would run outside that transaction, or on SQLite wait for ever),
 * and with `acquireTimeoutMs` a wait for a connection is cut. With `immediateWrites` (SQLite), a
 * transaction opened without an isolation level (one that may write) begins IMMEDIATE.
 */
export function guardDialect(dialect: Dialect, owner: object, acquireTimeoutMs?: number, immediateWrites = false): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => new GuardedDriver(dialect.createDriver(), owner, acquireTimeoutMs, immediateWrites),
  };
}

class GuardedDriver implements Driver {
  constructor(private readonly inner: Driver, private readonly owner: object, private readonly acquireTimeoutMs?: number, private readonly immediateWrites = false) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (openTransaction(this.owner)) {
      throw new Error("a store call asked for its own database connection inside an open transaction; pass it the transaction");
    }
    const ms = this.acquireTimeoutMs;
    if (!ms) return this.inner.acquireConnection();
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
      return await Promise.race([acquired, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Two connections write one SQLite file (the usage thread's and this one). A deferred transaction
   * that reads, then writes after the other connection committed, fails at once with SQLITE_BUSY
   * (its snapshot is stale; no busy wait helps). IMMEDIATE takes the write lock first, waiting
   * for it (busy_timeout). Snapshot reads (an isolation level given) stay deferred and never wait.
   */
  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (this.immediateWrites && !settings.isolationLevel) {
      await c.executeQuery(CompiledQuery.raw("begin immediate"));
      return;
    }
    return this.inner.beginTransaction(c, settings);
  }

  commitTransaction(c: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(c);
  }

  /**
   * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, …); the
   * explicit rollback that follows then fails with "no transaction is active", and that failure
   * would replace the error that caused it. The transaction is gone either way: the cause stands.
   */
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    try {
      await this.inner.rollbackTransaction(c);
    } catch (err) {
      if (!/cannot rollback - no transaction is active/.test((err as Error).message)) throw err;
    }
  }

  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(c);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
