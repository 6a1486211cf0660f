import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createRequire } from "node:module";
import BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type MigrationProvider } from "kysely";
import { StoreUnavailableError } from "../errors/index.js";
import { MIGRATIONS } from "./migrations/index.js";
import type { Tables } from "./schema.js";
import { guardDialect, openTransaction, runInTransaction } from "./transaction.js";

export type DialectName = "sqlite" | "postgres";

/** An open database: the typed query builder and which dialect it speaks. */
export interface Database {
  /**
   * The query builder: inside `inTransaction` (in the same async context) this is that
   * transaction, so no store call can write beside it or wait on it (see transaction.ts).
   */
  readonly db: Kysely<Tables>;
  readonly dialect: DialectName;
  /** Where it lives, with any password removed; for logs. */
  readonly location: string;
  /** The SQLite handle, for the few hot statements worth preparing once (usage inserts). */
  readonly sqlite?: BetterSqlite3.Database;
  /** The longest a statement or a transaction may take, in milliseconds. */
  readonly statementTimeoutMs: number;
  close(): Promise<void>;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;

/** The Database record over a root handle: `db` answers the transaction open in the caller's context. */
function database(root: Kysely<Tables>, owner: object, fields: Omit<Database, "db" | "close">): Database {
  // A getter, defined in place (Object.assign would copy the value it has now).
  Object.defineProperty(owner, "db", { get: () => openTransaction(owner) ?? root, enumerable: true });
  return Object.assign(owner, fields, { close: () => root.destroy() }) as Database;
}

/**
 * The PostgreSQL driver, loaded on first use: a node on SQLite never pays its memory (pg is
 * CommonJS, so a synchronous require keeps openDatabase synchronous).
 */
function loadPg(): typeof pg {
  const driver = createRequire(import.meta.url)("pg") as typeof pg;
  // int8 (bigint) columns hold milliseconds and nano-USD, all below 2^53: read them as numbers.
  driver.types.setTypeParser(20, (v) => Number(v));
  return driver;
}

export interface OpenOptions {
  /** `postgres://…`, `sqlite:path`, a file path, or ":memory:". */
  url: string;
  /** Extra pg pool settings (tests point search_path at a private schema). */
  pgOptions?: pg.PoolConfig;
  /** The longest a statement or a transaction may take (default 15 s). */
  statementTimeoutMs?: number;
  /** SQLite: the longest a write waits for another connection's write lock before it fails with SQLITE_BUSY (default 5 s). */
  lockWaitMs?: number;
}

export function openDatabase({ url, pgOptions, statementTimeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS, lockWaitMs = 5_000 }: OpenOptions): Database {
  const owner = {};
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new (loadPg().Pool)({
      connectionString: url, max: 10, connectionTimeoutMillis: 5_000,
      // The server enforces both: a runaway statement, or a transaction left open by a stuck
      // caller, ends there instead of holding locks and a pooled connection.
      // The idle limit is a backstop: the transaction limit here rolls back first, on a live connection.
      statement_timeout: statementTimeoutMs, idle_in_transaction_session_timeout: statementTimeoutMs * 2 + 1_000, ...pgOptions,
    });
    // A dropped server must not crash the process. Idle clients report on the pool; a client that
    // is checked out when its connection dies emits on itself, and with no listener that would be
    // an uncaught exception. The query under way still fails, and callers see that.
    pool.on("error", () => undefined);
    pool.on("connect", (client) => client.on("error", () => undefined));
    const db = new Kysely<Tables>({ dialect: guardDialect(new PostgresDialect({ pool }), owner) });
    return database(db, owner, { dialect: "postgres", location: url.replace(/\/\/[^@/]*@/, "//***@"), statementTimeoutMs });
  }
  const file = url.startsWith("sqlite:") ? url.slice("sqlite:".length) : url;
  if (file !== ":memory:") mkdirSync(dirname(resolve(file)), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("synchronous = NORMAL");
  // What a write on the handle itself waits for the lock; through `db` it waits without blocking (transaction.ts).
  sqlite.pragma(`busy_timeout = ${lockWaitMs}`);
  // 8 MiB of page cache per connection (SQLite's default is 2): the upper levels of the key-hash
  // index stay in it, and the operating system's file cache serves the rest. A larger cache is
  // resident memory the gateway keeps for good: 64 MiB measured no faster for cold key lookups
  // among a million keys (bench/verify.ts).
  sqlite.pragma("cache_size = -8192");
  // One connection: a caller waiting for it longer than the statement timeout fails instead of queueing for ever.
  const db = new Kysely<Tables>({
    dialect: guardDialect(new SqliteDialect({ database: sqlite }), owner, { acquireTimeoutMs: statementTimeoutMs, sqliteLock: { handle: sqlite, waitMs: lockWaitMs } }),
  });
  return database(db, owner, { dialect: "sqlite", location: file, sqlite, statementTimeoutMs });
}

/**
 * The usage thread's connection (usage-thread.ts), which does nothing but append usage rows and roll
 * them up; bench/usage-insert.ts measures it so.
 */
export function tuneForUsageWrites(database: Database): void {
  // SQLite's default 2 MiB of page cache, not the main connection's 8 (kept for key lookups): this one
  // appends, touching the newest pages of each index. Measured over 200,000 rows in batches of 800:
  // 7-10 MB less RSS, inserts no slower (8.3-9.1 µs a row against 9.7-10.4, on a busy machine).
  database.sqlite!.pragma("cache_size = -2048");
  // An insert of many rows keeps a statement journal (the pages it changed, to undo it alone should it
  // fail half way); past 64 KiB SQLite spills it to a temporary file, which cost the 32-row inserts
  // (store/usage.ts) two page writes a request. In memory it stays as small as one statement's pages.
  database.sqlite!.pragma("temp_store = memory");
}

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** The advisory lock id that serialises schema changes on a PostgreSQL server ("latchkey" in ASCII, truncated). */
export const SCHEMA_DDL_LOCK = 0x6c617463686b;

/** Applies every pending migration; returns the names applied. */
export async function migrate(database: Database): Promise<string[]> {
  // On PostgreSQL name the schema explicitly: otherwise the migrator may find another schema's
  // bookkeeping tables on the server and skip creating its own.
  const schema = database.dialect === "postgres"
    ? (await sql<{ s: string }>`select current_schema() as s`.execute(database.db)).rows[0]?.s
    : undefined;
  const migrator = new Migrator({
    db: database.db, provider, migrationTableName: "schema_migrations", migrationLockTableName: "schema_migrations_lock",
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  // Kysely's migrator reads the server's catalog across every schema; schema DDL running at the same
  // time elsewhere on the server (another deployment sharing it, or parallel test suites creating
  // and dropping their schemas) can make that read fail. A server-wide advisory lock, held on one
  // connection while the migrator works on others, puts such changes one after another.
  const { error, results } = database.dialect === "postgres"
    ? await database.db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(${SCHEMA_DDL_LOCK})`.execute(conn);
      try {
        return await migrator.migrateToLatest();
      } finally {
        await sql`select pg_advisory_unlock(${SCHEMA_DDL_LOCK})`.execute(conn);
      }
    })
    : await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    const where = failed ? `migration ${failed.migrationName}` : "preparing the migration tables";
    throw new StoreUnavailableError(`${where} failed: ${(error as Error).message}`, error);
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** True when the database answers a trivial query. */
export async function ping(database: Database): Promise<boolean> {
  try {
    await database.db.selectNoFrom((eb) => eb.lit(1).as("one")).execute();
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` in one transaction (joining the one already open in this context, if any); every store
 * call `fn` awaits runs in it. On PostgreSQL a failed connection becomes StoreUnavailableError.
 */
export async function inTransaction<T>(
  database: Database, fn: (trx: Kysely<Tables>) => Promise<T>, options: { isolation?: "repeatable read" } = {},
): Promise<T> {
  try {
    return await runInTransaction(database, database.db, database.statementTimeoutMs, fn, options.isolation);
  } catch (err) {
    throw asStoreError(err);
  }
}

const CONNECTION_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "57P01", "57P03", "08006", "08001", "08003"]);

/** Connection faults become StoreUnavailableError; anything else is passed on unchanged. */
export function asStoreError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  const message = (err as Error)?.message ?? "";
  if (code === "57014" || code === "25P03") return new StoreUnavailableError("a database statement ran past the statement timeout", err);
  if ((code && CONNECTION_ERRORS.has(code)) || /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(message)) {
    return new StoreUnavailableError("the database is unavailable", err);
  }
  return err;
}
