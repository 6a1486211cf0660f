import { sql, type Kysely } from "kysely";
import { inTransaction, type Database } from "./database.js";
import { isPostgres } from "./migrations/dialect.js";
import type { Tables, UsageEventRow } from "./schema.js";
import type { UsageEvent } from "./types.js";
import type { UsageStore } from "./usage.js";

/** A durable budget lease (migration 0014): a request in flight, written before its reservation. */
export interface BudgetLeaseRow extends Pick<UsageEventRow, "id" | "org_id" | "workspace_id" | "key_id" | "provider" | "model" | "endpoint"> {
  /** The process that wrote it (its `lease_holders` row says whether it lives). */
  holder: string;
  amount_nano: number;
  /** JSON: [counter subject, period key][] that the reservation holds. */
  counters: string;
  /** "key:… wrk:… org:…", as the reservation's owner. */
  owner: string;
  reserved_at: number;
  expires_at: number;
}

export interface LeaseHolderRow {
  id: string;
  seen_at: number;
}

declare module "./schema.js" {
  interface Tables {
    budget_leases: BudgetLeaseRow;
    lease_holders: LeaseHolderRow;
  }
}

export type LeaseColumn = "key_id" | "workspace_id" | "org_id";

/**
 * Durable budget leases. A usage write deletes the leases of the requests it records in its own
 * transaction (UsageStore), so at any snapshot a request is in the leases or in the usage records,
 * never both; `expire` does the same for leases whose time is up, charging them by the lease rule.
 */
export class LeaseStore {
  constructor(private readonly database: Database, private readonly usage: UsageStore) {}

  /**
   * On PostgreSQL the commit does not wait for the WAL to reach the disk (synchronous_commit off,
   * for this transaction only): a lease must outlive the gateway node that wrote it, which it does
   * once PostgreSQL has it, not a crash of PostgreSQL itself (then it may lose its last ~200 ms).
   * That takes the disk flush, several milliseconds, off the request path.
   */
  async insertMany(rows: readonly BudgetLeaseRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.database.dialect !== "postgres") {
      await this.database.db.insertInto("budget_leases").values([...rows]).onConflict((oc) => oc.column("id").doNothing()).execute();
      return;
    }
    await inTransaction(this.database, async (trx) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      await trx.insertInto("budget_leases").values([...rows]).onConflict((oc) => oc.column("id").doNothing()).execute();
    });
  }

  /**
   * The open leases of one key, workspace or organization (in the caller's transaction, when one is
   * open). A lease whose request has its record is not open: its write was slow and landed after
   * the record's (which deletes leases only of requests it finds), and a load reading it too would
   * count that request twice.
   */
  openFor(column: LeaseColumn, id: string): Promise<BudgetLeaseRow[]> {
    return this.database.db.selectFrom("budget_leases").selectAll().where(column, "=", id)
      .where((eb) => eb.not(eb.exists(eb.selectFrom("usage_events").select("usage_events.id").whereRef("usage_events.id", "=", "budget_leases.id"))))
      .execute();
  }

  /** `holder` lives at `now`; holders not seen for a day are forgotten. */
  async heartbeat(holder: string, now: number): Promise<void> {
    await this.database.db.insertInto("lease_holders").values({ id: holder, seen_at: now })
      .onConflict((oc) => oc.column("id").doUpdateSet({ seen_at: now })).execute();
    await this.database.db.deleteFrom("lease_holders").where("seen_at", "<", now - 86_400_000).execute();
  }

  /**
   * Up to `limit` leases expired at `now` whose holder was not seen since `deadBefore`, each charged as the usage event `toEvent` makes of it,
   * in one transaction with their deletion (a lease whose request has a record meanwhile adds
   * nothing). Safe from any node at once: on PostgreSQL the rows are locked, and skipped by others.
   * Answers the events that were written.
   */
  expire(
    now: number, deadBefore: number, limit: number, toEvent: (row: BudgetLeaseRow) => UsageEvent, neverReserved: NeverReserved = noneNeverReserved,
  ): Promise<UsageEvent[]> {
    return inTransaction(this.database, async (trx) => {
      // Leases whose request was recorded before the lease itself was in (its write was slow): nothing to charge.
      await trx.deleteFrom("budget_leases").where("expires_at", "<=", now)
        .where((eb) => eb.exists(eb.selectFrom("usage_events").select("usage_events.id").whereRef("usage_events.id", "=", "budget_leases.id"))).execute();
      const alive = trx.selectFrom("lease_holders").select("id").where("seen_at", ">=", deadBefore);
      let q = trx.selectFrom("budget_leases").selectAll().where("expires_at", "<=", now).where("holder", "not in", alive).orderBy("expires_at").limit(limit);
      if (isPostgres(trx as never)) q = q.forUpdate().skipLocked();
      const found = await q.execute();
      if (found.length === 0) return [];
      const rows = await this.dropNeverReserved(trx, found, neverReserved);
      if (rows.length === 0) return [];
      const events = rows.map(toEvent);
      const written = new Set(await this.usage.insertNew(events));
      await trx.deleteFrom("budget_leases").where("id", "in", rows.map((r) => r.id)).execute();
      return events.filter((e) => written.has(e.id));
    });
  }

  /**
   * The leases `holder` (a process known to be gone) left whose requests never got a reservation
   * (see `neverReserved`), deleted uncharged now, whatever their time; answers how many. Its
   * other leases stay for the lease rule.
   */
  dropUnreserved(holder: string, neverReserved: NeverReserved): Promise<number> {
    return inTransaction(this.database, async (trx) => {
      let q = trx.selectFrom("budget_leases").selectAll().where("holder", "=", holder);
      if (isPostgres(trx as never)) q = q.forUpdate().skipLocked();
      const rows = await q.execute();
      const kept = await this.dropNeverReserved(trx, rows, neverReserved);
      return rows.length - kept.length;
    });
  }

  /** Deletes the rows whose request never reserved; answers the others. */
  private async dropNeverReserved(trx: Kysely<Tables>, rows: BudgetLeaseRow[], neverReserved: NeverReserved): Promise<BudgetLeaseRow[]> {
    if (rows.length === 0) return rows;
    const never = await neverReserved(rows);
    if (never.size === 0) return rows;
    await trx.deleteFrom("budget_leases").where("id", "in", [...never]).execute();
    return rows.filter((r) => !never.has(r.id));
  }
}

/** Of these leases, the ids whose requests certainly never got a reservation (the counters vouch for it). */
export type NeverReserved = (rows: readonly BudgetLeaseRow[]) => Promise<Set<string>>;

const noneNeverReserved: NeverReserved = () => Promise.resolve(new Set());
