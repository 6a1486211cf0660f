/**
 * Copies a whole store from one database to another (SQLite to PostgreSQL, or back): every table
 * the migrations create, row for row and value for value, so the audit chain's hashes and the
 * credentials' ciphertexts arrive unchanged. The target must be empty; it is brought to the same
 * schema first, filled in one transaction, and checked (row counts, the audit chain) before that
 * transaction commits, so a failed copy leaves it as empty as it was.
 */
import { sql, type Kysely, type RawBuilder } from "kysely";
import type { MasterKeys } from "../lib/envelope.js";
import { AuditStore, type ChainCheck } from "./audit.js";
import { inTransaction, migrate, openDatabase, type Database } from "./database.js";
import { MIGRATIONS } from "./migrations/index.js";
import type { Tables } from "./schema.js";

/** Kysely's migration bookkeeping: written by `migrate` on the target, never copied. */
const BOOKKEEPING = new Set(["schema_migrations", "schema_migrations_lock"]);

/** Bound parameters per insert statement, well under both servers' limits. */
const PARAMS_PER_INSERT = 8_000;
const ROWS_PER_READ = 2_000;

export class CopyRefusedError extends Error {
  override readonly name = "CopyRefusedError";
}

export interface TableCopy { table: string; rows: number }

export interface CopyResult {
  tables: TableCopy[];
  /** The audit chain as walked on the source and on the target before the copy committed. */
  sourceAudit: ChainCheck;
  targetAudit: ChainCheck;
}

type Row = Record<string, unknown>;
type Db = Kysely<Tables>;

interface TableInfo { columns: string[]; primaryKey: string[]; parents: string[]; serial: string[] }

async function tableNames(db: Db, dialect: Database["dialect"]): Promise<string[]> {
  const rows = dialect === "postgres"
    ? await sql<{ name: string }>`select table_name as name from information_schema.tables
        where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db)
    : await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db);
  return rows.rows.map((r) => r.name).filter((n) => !BOOKKEEPING.has(n)).sort();
}

async function tableInfo(db: Db, dialect: Database["dialect"], table: string): Promise<TableInfo> {
  if (dialect === "sqlite") {
    const cols = (await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${table}) order by cid`.execute(db)).rows;
    const fks = (await sql<{ parent: string }>`select "table" as parent from pragma_foreign_key_list(${table})`.execute(db)).rows;
    return {
      columns: cols.map((c) => c.name),
      primaryKey: cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
      parents: fks.map((f) => f.parent), serial: [],
    };
  }
  const cols = (await sql<{ name: string; dflt: string | null }>`select column_name as name, column_default as dflt
      from information_schema.columns where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(db)).rows;
  const pk = (await sql<{ name: string }>`select kcu.column_name as name from information_schema.table_constraints tc
      join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema and kcu.table_name = tc.table_name
      where tc.table_schema = current_schema() and tc.table_name = ${table} and tc.constraint_type = 'PRIMARY KEY' order by kcu.ordinal_position`.execute(db)).rows;
  const fks = (await sql<{ parent: string }>`select ccu.table_name as parent from information_schema.table_constraints tc
      join information_schema.constraint_column_usage ccu on ccu.constraint_name = tc.constraint_name and ccu.constraint_schema = tc.constraint_schema
      where tc.table_schema = current_schema() and tc.table_name = ${table} and tc.constraint_type = 'FOREIGN KEY'`.execute(db)).rows;
  return {
    columns: cols.map((c) => c.name), primaryKey: pk.map((c) => c.name), parents: fks.map((f) => f.parent),
    serial: cols.filter((c) => c.dflt?.startsWith("nextval(")).map((c) => c.name),
  };
}

async function countRows(db: Db, table: string): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

async function appliedMigrations(db: Db, dialect: Database["dialect"]): Promise<string[]> {
  if (!(await tableNamesWithBookkeeping(db, dialect)).includes("schema_migrations")) return [];
  return (await sql<{ name: string }>`select name from schema_migrations order by name`.execute(db)).rows.map((r) => r.name);
}

async function tableNamesWithBookkeeping(db: Db, dialect: Database["dialect"]): Promise<string[]> {
  const rows = dialect === "postgres"
    ? await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db)
    : await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db);
  return rows.rows.map((r) => r.name);
}

/** The tables a fresh schema already fills (the audit chain's head, say): replaced by the source's rows, never counted as data. */
async function seededTables(): Promise<Set<string>> {
  const fresh = openDatabase({ url: ":memory:" });
  try {
    await migrate(fresh);
    const seeded = new Set<string>();
    for (const t of await tableNames(fresh.db, "sqlite")) if (await countRows(fresh.db, t) > 0) seeded.add(t);
    return seeded;
  } finally {
    await fresh.close();
  }
}

/** Parents before children, so every foreign key finds its row. */
function parentsFirst(tables: string[], info: Map<string, TableInfo>): string[] {
  const out: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (t: string): void => {
    if (state.get(t) === "done") return;
    if (state.get(t) === "visiting") throw new CopyRefusedError(`the foreign keys around ${t} form a cycle; the copy cannot order them`);
    state.set(t, "visiting");
    for (const p of info.get(t)!.parents) if (p !== t && info.has(p)) visit(p);
    state.set(t, "done");
    out.push(t);
  };
  for (const t of tables) visit(t);
  return out;
}

/** Reads a table in primary-key order, a page at a time (all at once when it has no primary key). */
async function* readTable(db: Db, table: string, columns: string[], primaryKey: string[]): AsyncGenerator<Row[]> {
  const cols = sql.join(columns.map((c) => sql.ref(c)));
  if (primaryKey.length === 0) {
    yield (await sql<Row>`select ${cols} from ${sql.table(table)}`.execute(db)).rows;
    return;
  }
  const order = sql.join(primaryKey.map((c) => sql.ref(c)));
  let after: Row | null = null;
  for (;;) {
    const where: RawBuilder<unknown> = after ? sql`where (${order}) > (${sql.join(primaryKey.map((c) => after![c]))})` : sql``;
    const rows: Row[] = (await sql<Row>`select ${cols} from ${sql.table(table)} ${where} order by ${order} limit ${ROWS_PER_READ}`.execute(db)).rows;
    if (rows.length > 0) yield rows;
    if (rows.length < ROWS_PER_READ) return;
    after = rows[rows.length - 1]!;
  }
}

async function insertRows(db: Db, table: string, columns: string[], rows: Row[]): Promise<void> {
  const per = Math.max(1, Math.floor(PARAMS_PER_INSERT / columns.length));
  const names = sql.join(columns.map((c) => sql.ref(c)));
  for (let i = 0; i < rows.length; i += per) {
    const values = rows.slice(i, i + per).map((r) => sql`(${sql.join(columns.map((c) => r[c] ?? null))})`);
    await sql`insert into ${sql.table(table)} (${names}) values ${sql.join(values)}`.execute(db);
  }
}

export interface CopyOptions {
  /** Told after each table is copied. */
  onTable?: (t: TableCopy) => void;
  /** The master key (and during a rolling rotation the one it replaces), when at hand: the audit chain's seals are checked too, not only its links. */
  masterKey?: MasterKeys | undefined;
}

/**
 * Copies every table of `source` into `target`, which must hold no data. Both must be closed by the
 * caller. Throws CopyRefusedError when the target is not empty, the schemas differ, or the copy does
 * not verify (in which case nothing was committed).
 */
export async function copyStore(source: Database, target: Database, options: CopyOptions = {}): Promise<CopyResult> {
  const expected = Object.keys(MIGRATIONS).sort();
  const applied = await appliedMigrations(source.db, source.dialect);
  if (applied.join() !== expected.join()) {
    throw new CopyRefusedError(`the source database is not at this version's schema (${applied.length} of ${expected.length} migrations applied, `
      + "or migrations this version does not know): run `latchkey migrate` on it with this version first");
  }
  const seeded = await seededTables();
  const present = await tableNames(target.db, target.dialect);
  const holding: string[] = [];
  for (const t of present) {
    if (seeded.has(t)) continue;
    const n = await countRows(target.db, t);
    if (n > 0) holding.push(`${t}: ${n}`);
  }
  if (holding.length > 0) {
    throw new CopyRefusedError(`the target database is not empty (${holding.join(", ")}); migrate-store copies into an empty database only`);
  }
  await migrate(target);

  const tables = await tableNames(source.db, source.dialect);
  const targetTables = await tableNames(target.db, target.dialect);
  if (tables.join() !== targetTables.join()) {
    throw new CopyRefusedError(`the two schemas hold different tables (source: ${tables.join(", ")}; target: ${targetTables.join(", ")})`);
  }
  const sourceInfo = new Map<string, TableInfo>();
  const targetInfo = new Map<string, TableInfo>();
  for (const t of tables) {
    sourceInfo.set(t, await tableInfo(source.db, source.dialect, t));
    targetInfo.set(t, await tableInfo(target.db, target.dialect, t));
    const a = [...sourceInfo.get(t)!.columns].sort().join();
    const b = [...targetInfo.get(t)!.columns].sort().join();
    if (a !== b) throw new CopyRefusedError(`table ${t} has different columns on the two sides (source: ${a}; target: ${b})`);
  }
  const order = parentsFirst(tables, targetInfo);

  // One snapshot of the source, one transaction on the target. Inside the target's transaction the
  // source is reached only through `src`: its store methods would look for a transaction of their own.
  return inTransaction(source, async (src) => {
    const sourceAudit = await new AuditStore(source, options.masterKey).verify();
    return inTransaction(target, async (dst) => {
      const copied = await fillTarget(src, dst, { order, seeded, sourceInfo, targetInfo }, options);
      const targetAudit = await new AuditStore(target, options.masterKey).verify();
      if (sourceAudit.ok && !targetAudit.ok) {
        throw new CopyRefusedError(`the audit chain verifies on the source but not on the copy (${targetAudit.brokenAt?.reason ?? "broken"}); nothing was committed`);
      }
      return { tables: copied, sourceAudit, targetAudit };
    });
  }, { isolation: "repeatable read" });
}

interface Plan { order: string[]; seeded: Set<string>; sourceInfo: Map<string, TableInfo>; targetInfo: Map<string, TableInfo> }

/** Copies every table in order, checking each one's row count on both sides. */
async function fillTarget(src: Db, dst: Db, plan: Plan, options: CopyOptions): Promise<TableCopy[]> {
  for (const t of [...plan.order].reverse()) if (plan.seeded.has(t)) await sql`delete from ${sql.table(t)}`.execute(dst);
  const copied: TableCopy[] = [];
  for (const t of plan.order) {
    const { columns, serial } = plan.targetInfo.get(t)!;
    let rows = 0;
    for await (const page of readTable(src, t, columns, plan.sourceInfo.get(t)!.primaryKey)) {
      await insertRows(dst, t, columns, page);
      rows += page.length;
    }
    // An explicit value does not move a PostgreSQL sequence: the next generated one must come after the copied ones.
    for (const c of serial) {
      await sql`select setval(pg_get_serial_sequence(${t}, ${c}), coalesce((select max(${sql.ref(c)}) from ${sql.table(t)}), 0) + 1, false)`.execute(dst);
    }
    const inSource = await countRows(src, t);
    const inTarget = await countRows(dst, t);
    if (rows !== inSource || inTarget !== inSource) {
      throw new CopyRefusedError(`table ${t}: ${inSource} rows in the source, ${inTarget} in the target after copying ${rows}; nothing was committed`);
    }
    const done = { table: t, rows };
    copied.push(done);
    options.onTable?.(done);
  }
  return copied;
}
