import { sql, type Kysely } from "kysely";
import { inTransaction, type Database } from "./database.js";
import type { Tables, UsageEventRow } from "./schema.js";
import { byTestUsage, NOT_TEST_USAGE } from "./test-usage.js";

export interface UsageRollupRow {
  width: string;
  bucket_start: number;
  org_id: string;
  workspace_id: string;
  key_id: string;
  provider: string;
  model: string;
  /** The credential that served; '' for requests no deployment answered. */
  deployment: string;
  requests: number;
  errors: number;
  input_tokens: number;
  cache_write_tokens: number;
  cache_read_tokens: number;
  output_tokens: number;
  cost_nano: number;
}

declare module "./schema.js" {
  interface UsageEventRow {
    /** When the roll-up job counted this event; null until then. Set only by UsageRollupStore. */
    rolled_at?: number | null;
  }
  interface Tables {
    usage_rollups: UsageRollupRow;
  }
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;

export type ReportDimension = "key_id" | "workspace_id" | "model" | "provider" | "deployment";

export interface UsageQuery {
  orgId: string;
  start: number;
  end: number;
  widthMs: number;
  groupBy: ReportDimension[];
  filters: Partial<Record<ReportDimension, string[]>>;
  /** Test keys' usage alone; without it, the report leaves test usage out. */
  test?: boolean;
}

export interface UsageTotals {
  requests: number;
  errors: number;
  inputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
  outputTokens: number;
  costNano: number;
}

export interface UsageGroupRow extends UsageTotals {
  bucket: number;
  group: Partial<Record<ReportDimension, string>>;
}

export type SpendSubject = { type: "key" | "workspace" | "org"; id: string };

/** What the credits charge needs of a counted event. */
export type RolledCost = Pick<UsageEventRow, "org_id" | "key_id" | "at" | "cost_nano">;

/**
 * Called inside the roll-up transaction with the events it just counted (credits charge them
 * there). On SQLite it is given only the priced events of organizations with credits turned on.
 */
export type RolledHook = (trx: Kysely<Tables>, events: readonly RolledCost[]) => Promise<void>;

const SUBJECT_COLUMN = { key: "key_id", workspace: "workspace_id", org: "org_id" } as const;

/**
 * Hourly and daily usage roll-ups. Reports and period spend read roll-ups plus the events not yet
 * rolled up, in one snapshot, so they are exact at any moment and never count an event twice.
 */
export class UsageRollupStore {
  constructor(private readonly database: Database) {}

  /**
   * Counts up to `limit` unrolled events into the roll-ups and marks them, in one transaction:
   * a crash rolls back both, a replayed batch was never inserted twice, and on PostgreSQL
   * concurrent jobs skip each other's rows (FOR UPDATE SKIP LOCKED). Returns how many it counted.
   */
  async rollUp(now: number, limit = 5000, hook?: RolledHook): Promise<number> {
    if (this.database.dialect === "sqlite") return this.rollUpSqlite(now, limit, hook);
    return inTransaction(this.database, async (trx) => {
      const events = await trx.selectFrom("usage_events").selectAll().where("rolled_at", "is", null)
        .orderBy("at").limit(limit).forUpdate().skipLocked().execute();
      if (events.length === 0) return 0;
      for (const [width, ms] of [["h", HOUR_MS], ["d", DAY_MS]] as const) {
        const rows = aggregate(events, width, ms);
        for (let i = 0; i < rows.length; i += 200) {
          await trx.insertInto("usage_rollups").values(rows.slice(i, i + 200)).onConflict((oc) => oc
            .columns(["width", "org_id", "bucket_start", "workspace_id", "key_id", "provider", "model", "deployment"])
            .doUpdateSet((eb) => ({
              requests: eb("usage_rollups.requests", "+", eb.ref("excluded.requests")),
              errors: eb("usage_rollups.errors", "+", eb.ref("excluded.errors")),
              input_tokens: eb("usage_rollups.input_tokens", "+", eb.ref("excluded.input_tokens")),
              cache_write_tokens: eb("usage_rollups.cache_write_tokens", "+", eb.ref("excluded.cache_write_tokens")),
              cache_read_tokens: eb("usage_rollups.cache_read_tokens", "+", eb.ref("excluded.cache_read_tokens")),
              output_tokens: eb("usage_rollups.output_tokens", "+", eb.ref("excluded.output_tokens")),
              cost_nano: eb("usage_rollups.cost_nano", "+", eb.ref("excluded.cost_nano")),
            }))).execute();
        }
      }
      const ids = events.map((e) => e.id);
      for (let i = 0; i < ids.length; i += 500) {
        await trx.updateTable("usage_events").set({ rolled_at: now }).where("id", "in", ids.slice(i, i + 500)).execute();
      }
      if (hook) await hook(trx, events);
      return events.length;
    });
  }

  /**
   * The same on SQLite, counted by the database itself: the batch's row ids go to a temporary
   * table and every step reads them from there. Reading the events into JavaScript cost about
   * 16 µs an event (5,000-event batches, measured), most of the gateway's per-request usage cost,
   * in bursts that stalled the event loop; SQLite's own GROUP BY costs a fraction of it. One
   * connection and one transaction: nothing else writes in between.
   */
  private async rollUpSqlite(now: number, limit: number, hook?: RolledHook): Promise<number> {
    return inTransaction(this.database, async (trx) => {
      await sql`create temp table if not exists rollup_batch (rid integer primary key)`.execute(trx);
      await sql`delete from temp.rollup_batch`.execute(trx);
      const picked = await sql`insert into temp.rollup_batch (rid)
        select rowid from usage_events where rolled_at is null order by at limit ${limit}`.execute(trx);
      const n = Number(picked.numAffectedRows ?? 0);
      if (n === 0) return 0;
      const batch = sql`rowid in (select rid from temp.rollup_batch)`;
      // One pass over the events makes the hours; the days are summed from the hours.
      await sql`create temp table if not exists rollup_hours (bucket_start integer, org_id text, workspace_id text, key_id text,
        provider text, model text, deployment text, requests integer, errors integer, input_tokens integer, cache_write_tokens integer,
        cache_read_tokens integer, output_tokens integer, cost_nano integer)`.execute(trx);
      await sql`delete from temp.rollup_hours`.execute(trx);
      await sql`insert into temp.rollup_hours
        select (at / ${sql.lit(HOUR_MS)}) * ${sql.lit(HOUR_MS)}, org_id, workspace_id, key_id, provider, model, coalesce(deployment, ''),
          count(*), sum(case when status >= 400 then 1 else 0 end), sum(input_tokens), sum(cache_write_tokens),
          sum(cache_read_tokens), sum(output_tokens), sum(cost_nano)
        from usage_events where ${batch} group by 1, 2, 3, 4, 5, 6, 7`.execute(trx);
      for (const [width, ms] of [["h", HOUR_MS], ["d", DAY_MS]] as const) {
        await sql`insert into usage_rollups (width, bucket_start, org_id, workspace_id, key_id, provider, model, deployment,
            requests, errors, input_tokens, cache_write_tokens, cache_read_tokens, output_tokens, cost_nano)
          select ${width}, (bucket_start / ${sql.lit(ms)}) * ${sql.lit(ms)}, org_id, workspace_id, key_id, provider, model, deployment,
            sum(requests), sum(errors), sum(input_tokens), sum(cache_write_tokens), sum(cache_read_tokens), sum(output_tokens), sum(cost_nano)
          from temp.rollup_hours where true -- an upsert's SELECT needs a WHERE, or SQLite may read ON CONFLICT as a join's ON
          group by 2, 3, 4, 5, 6, 7, 8
          on conflict (width, org_id, bucket_start, workspace_id, key_id, provider, model, deployment) do update set
            requests = requests + excluded.requests, errors = errors + excluded.errors,
            input_tokens = input_tokens + excluded.input_tokens, cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
            cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, output_tokens = output_tokens + excluded.output_tokens,
            cost_nano = cost_nano + excluded.cost_nano`.execute(trx);
      }
      if (hook) {
        const priced = await sql<RolledCost>`select org_id, key_id, at, cost_nano from usage_events where ${batch} and cost_nano > 0
          and ${NOT_TEST_USAGE} and org_id in (select org_id from credit_accounts where enabled_at is not null)`.execute(trx);
        await hook(trx, priced.rows);
      }
      await sql`update usage_events set rolled_at = ${now} where ${batch}`.execute(trx);
      return n;
    });
  }

  /**
   * Deletes at most `limit` raw events older than `before` that are already rolled up, never an
   * unrolled one; answers how many. The purge job calls it until fewer come back.
   */
  async purgeRolled(before: number, limit: number): Promise<number> {
    const ids = (await this.database.db.selectFrom("usage_events").select("id").where("at", "<", before)
      .where("rolled_at", "is not", null).limit(limit).execute()).map((r) => r.id);
    if (ids.length === 0) return 0;
    const r = await this.database.db.deleteFrom("usage_events").where("id", "in", ids).where("rolled_at", "is not", null).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Usage grouped by bucket and dimensions. Hour and day widths read roll-ups; others raw events. */
  async report(q: UsageQuery): Promise<UsageGroupRow[]> {
    const width = q.widthMs === DAY_MS ? "d" : q.widthMs === HOUR_MS ? "h" : null;
    return this.snapshot(async (trx) => {
      const raw = await this.rawReport(trx, q, width !== null);
      if (width === null) return raw;
      const dims = q.groupBy;
      let r = trx.selectFrom("usage_rollups").where("width", "=", width).where("org_id", "=", q.orgId)
        .where("bucket_start", ">=", q.start).where("bucket_start", "<", q.end);
      for (const [dim, values] of Object.entries(q.filters)) if (values?.length) r = r.where(dim as ReportDimension, "in", values);
      r = r.where(byTestUsage(trx, q.test === true));
      const rows = await r.select((eb) => [
        "bucket_start as bucket", ...dims,
        eb.fn.sum<number>("requests").as("requests"), eb.fn.sum<number>("errors").as("errors"),
        eb.fn.sum<number>("input_tokens").as("input_tokens"), eb.fn.sum<number>("cache_write_tokens").as("cache_write_tokens"),
        eb.fn.sum<number>("cache_read_tokens").as("cache_read_tokens"), eb.fn.sum<number>("output_tokens").as("output_tokens"),
        eb.fn.sum<number>("cost_nano").as("cost_nano"),
      ] as const).groupBy(["bucket_start", ...dims]).execute();
      return merge([...raw, ...rows.map((row) => toGroupRow(row as unknown as Record<string, unknown>, dims))], dims);
    });
  }

  private async rawReport(trx: Kysely<Tables>, q: UsageQuery, unrolledOnly: boolean): Promise<UsageGroupRow[]> {
    const dims = q.groupBy;
    const bucket = sql<number>`(at / ${sql.lit(q.widthMs)}) * ${sql.lit(q.widthMs)}`;
    let r = trx.selectFrom("usage_events").where("org_id", "=", q.orgId).where("at", ">=", q.start).where("at", "<", q.end);
    if (unrolledOnly) r = r.where("rolled_at", "is", null);
    for (const [dim, values] of Object.entries(q.filters)) if (values?.length) r = r.where(dim as ReportDimension, "in", values);
    r = r.where(byTestUsage(trx, q.test === true));
    const rows = await r.select((eb) => [
      bucket.as("bucket"), ...dims,
      eb.fn.countAll<number>().as("requests"),
      eb.fn.sum<number>(sql`case when status >= 400 then 1 else 0 end`).as("errors"),
      eb.fn.sum<number>("input_tokens").as("input_tokens"), eb.fn.sum<number>("cache_write_tokens").as("cache_write_tokens"),
      eb.fn.sum<number>("cache_read_tokens").as("cache_read_tokens"), eb.fn.sum<number>("output_tokens").as("output_tokens"),
      eb.fn.sum<number>("cost_nano").as("cost_nano"),
    ] as const).groupBy([bucket, ...dims]).execute();
    return rows.map((row) => toGroupRow(row as unknown as Record<string, unknown>, dims));
  }

  /**
   * Spend of each subject in [start, end): daily roll-ups (periods are whole UTC days) plus unrolled
   * events. The events are read from the oldest unrolled one on, not from the period's start: the
   * planner takes the subject's (id, at) index, and from the period's start that range holds every
   * event of the period, rolled up or not (a month of a busy key, read again for each alert check).
   */
  async periodSpend(subjects: SpendSubject[], start: number, end: number, db?: Kysely<Tables>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const run = async (trx: Kysely<Tables>) => {
      const oldest = await trx.selectFrom("usage_events").select((eb) => eb.fn.min<number>("at").as("at")).where("rolled_at", "is", null).executeTakeFirst();
      const from = oldest?.at === null || oldest?.at === undefined ? null : Math.max(start, Number(oldest.at));
      for (const s of subjects) {
        const col = SUBJECT_COLUMN[s.type];
        // A test key's own total is its (simulated) usage; above the key, test usage does not count.
        let a = trx.selectFrom("usage_rollups").select((eb) => eb.fn.sum<number>("cost_nano").as("c"))
          .where("width", "=", "d").where(col, "=", s.id).where("bucket_start", ">=", start).where("bucket_start", "<", end);
        let b = from === null || from >= end ? null : trx.selectFrom("usage_events").select((eb) => eb.fn.sum<number>("cost_nano").as("c"))
          .where("rolled_at", "is", null).where(col, "=", s.id).where("at", ">=", from).where("at", "<", end);
        if (s.type !== "key") {
          a = a.where(byTestUsage(trx, false));
          b = b?.where(byTestUsage(trx, false)) ?? null;
        }
        const [ra, rb] = [await a.executeTakeFirst(), b ? await b.executeTakeFirst() : undefined];
        out.set(`${s.type}:${s.id}`, Number(ra?.c ?? 0) + Number(rb?.c ?? 0));
      }
    };
    if (db) await run(db);
    else await this.snapshot(run);
    return out;
  }

  /** One subject's spend in [start, end), as periodSpend reads it. */
  async spendOf(subject: SpendSubject, start: number, end: number): Promise<number> {
    return (await this.periodSpend([subject], start, end)).get(`${subject.type}:${subject.id}`) ?? 0;
  }

  /** Cost of the organization's events not yet rolled up, from `since` on (credits not yet charged). */
  async unrolledCost(orgId: string, since: number, db: Kysely<Tables> = this.database.db): Promise<number> {
    const r = await db.selectFrom("usage_events").select((eb) => eb.fn.sum<number>("cost_nano").as("c"))
      .where("rolled_at", "is", null).where("org_id", "=", orgId).where("at", ">=", since).where(byTestUsage(db, false)).executeTakeFirst();
    return Number(r?.c ?? 0);
  }

  /** Several reads that must agree: one transaction, REPEATABLE READ on PostgreSQL (SQLite reads one snapshot anyway). */
  snapshot<T>(fn: (trx: Kysely<Tables>) => Promise<T>): Promise<T> {
    return inTransaction(this.database, fn, { isolation: "repeatable read" });
  }
}

function aggregate(events: UsageEventRow[], width: string, ms: number): UsageRollupRow[] {
  const groups = new Map<string, UsageRollupRow>();
  for (const e of events) {
    const bucket = Math.floor(e.at / ms) * ms;
    const deployment = e.deployment ?? "";
    const k = `${bucket}\u0000${e.org_id}\u0000${e.workspace_id}\u0000${e.key_id}\u0000${e.provider}\u0000${e.model}\u0000${deployment}`;
    let g = groups.get(k);
    if (!g) {
      g = { width, bucket_start: bucket, org_id: e.org_id, workspace_id: e.workspace_id, key_id: e.key_id, provider: e.provider, model: e.model, deployment,
        requests: 0, errors: 0, input_tokens: 0, cache_write_tokens: 0, cache_read_tokens: 0, output_tokens: 0, cost_nano: 0 };
      groups.set(k, g);
    }
    g.requests += 1;
    g.errors += e.status >= 400 ? 1 : 0;
    g.input_tokens += Number(e.input_tokens);
    g.cache_write_tokens += Number(e.cache_write_tokens);
    g.cache_read_tokens += Number(e.cache_read_tokens);
    g.output_tokens += Number(e.output_tokens);
    g.cost_nano += Number(e.cost_nano);
  }
  // A fixed order, so that concurrent upserts on PostgreSQL lock rows in the same order (no deadlock).
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
}

function toGroupRow(r: Record<string, unknown>, dims: ReportDimension[]): UsageGroupRow {
  const group: Partial<Record<ReportDimension, string>> = {};
  for (const d of dims) group[d] = String(r[d] ?? "");
  return {
    bucket: Number(r.bucket), group, requests: Number(r.requests), errors: Number(r.errors ?? 0), inputTokens: Number(r.input_tokens ?? 0),
    cacheWriteTokens: Number(r.cache_write_tokens ?? 0), cacheReadTokens: Number(r.cache_read_tokens ?? 0),
    outputTokens: Number(r.output_tokens ?? 0), costNano: Number(r.cost_nano ?? 0),
  };
}

function merge(rows: UsageGroupRow[], dims: ReportDimension[]): UsageGroupRow[] {
  const out = new Map<string, UsageGroupRow>();
  for (const r of rows) {
    const k = [r.bucket, ...dims.map((d) => r.group[d])].join("\u0000");
    const m = out.get(k);
    if (!m) {
      out.set(k, { ...r });
      continue;
    }
    m.requests += r.requests; m.errors += r.errors; m.inputTokens += r.inputTokens; m.cacheWriteTokens += r.cacheWriteTokens;
    m.cacheReadTokens += r.cacheReadTokens; m.outputTokens += r.outputTokens; m.costNano += r.costNano;
  }
  return [...out.values()];
}
