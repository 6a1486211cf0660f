import type { Kysely } from "kysely";
import { inTransaction, type Database } from "./database.js";
import type { Tables } from "./schema.js";
import { testKeyIds } from "./test-usage.js";

export interface CreditAccountRow {
  org_id: string;
  balance_nano: number;
  /** Ledger entries so far; the next entry's seq is entries + 1. */
  entries: number;
  /** When credits were (last) enabled; null when disabled. Usage from then on is charged. */
  enabled_at: number | null;
  low_balance_nano: number | null;
  auto_top_up_amount_nano: number | null;
  auto_top_up_below_nano: number | null;
  /** Seq of the last entry that added money: low-balance alerts and top-up requests fire once per cycle. */
  last_credit_seq: number;
  updated_at: number;
}

export interface CreditLedgerRow {
  org_id: string;
  seq: number;
  id: string;
  at: number;
  /** top_up | adjustment | usage */
  kind: string;
  amount_nano: number;
  balance_after_nano: number;
  actor: string;
  note: string | null;
}

declare module "./schema.js" {
  interface Tables {
    credit_accounts: CreditAccountRow;
    credit_ledger: CreditLedgerRow;
  }
}

export interface CreditSettings {
  enabledAt: number | null;
  lowBalanceNano: number | null;
  autoTopUp: { amountNano: number; whenBelowNano: number } | null;
}

export interface NewLedgerEntry {
  orgId: string;
  id: string;
  at: number;
  kind: "top_up" | "adjustment" | "usage";
  amountNano: number;
  actor: string;
  note: string | null;
}

/**
 * The credit ledger. The account row holds the running balance and the entry count; appending
 * updates it with one atomic UPDATE … RETURNING (a row lock on PostgreSQL, the single writer on
 * SQLite), so entries get consecutive seqs and `balance_after` is exact under any concurrency.
 * The balance always equals the sum of the ledger's amounts.
 */
export class CreditStore {
  constructor(private readonly database: Database) {}

  async ensureAccount(orgId: string, now: number, db: Kysely<Tables> = this.database.db): Promise<void> {
    await db.insertInto("credit_accounts").values({
      org_id: orgId, balance_nano: 0, entries: 0, enabled_at: null, low_balance_nano: null, auto_top_up_amount_nano: null,
      auto_top_up_below_nano: null, last_credit_seq: 0, updated_at: now,
    }).onConflict((oc) => oc.column("org_id").doNothing()).execute();
  }

  async getAccount(orgId: string, db: Kysely<Tables> = this.database.db): Promise<CreditAccountRow | null> {
    return (await db.selectFrom("credit_accounts").selectAll().where("org_id", "=", orgId).executeTakeFirst()) ?? null;
  }

  /** Accounts with credits enabled (the roll-up charges their usage). */
  async enabledAccounts(db: Kysely<Tables> = this.database.db): Promise<CreditAccountRow[]> {
    return db.selectFrom("credit_accounts").selectAll().where("enabled_at", "is not", null).execute();
  }

  async updateSettings(orgId: string, s: Partial<CreditSettings>, now: number, db: Kysely<Tables> = this.database.db): Promise<void> {
    await this.ensureAccount(orgId, now, db);
    const set: Partial<CreditAccountRow> = { updated_at: now };
    if (s.enabledAt !== undefined) set.enabled_at = s.enabledAt;
    if (s.lowBalanceNano !== undefined) set.low_balance_nano = s.lowBalanceNano;
    if (s.autoTopUp !== undefined) {
      set.auto_top_up_amount_nano = s.autoTopUp?.amountNano ?? null;
      set.auto_top_up_below_nano = s.autoTopUp?.whenBelowNano ?? null;
    }
    await db.updateTable("credit_accounts").set(set).where("org_id", "=", orgId).execute();
  }

  /** Appends an entry inside `trx` (the caller's transaction); returns it with its seq and balance after. */
  async append(e: NewLedgerEntry, trx: Kysely<Tables>): Promise<CreditLedgerRow> {
    await this.ensureAccount(e.orgId, e.at, trx);
    const acc = await trx.updateTable("credit_accounts").set((eb) => ({
      balance_nano: eb("balance_nano", "+", e.amountNano),
      entries: eb("entries", "+", 1),
      updated_at: e.at,
    })).where("org_id", "=", e.orgId).returning(["balance_nano", "entries"]).executeTakeFirstOrThrow();
    const row: CreditLedgerRow = {
      org_id: e.orgId, seq: Number(acc.entries), id: e.id, at: e.at, kind: e.kind, amount_nano: e.amountNano,
      balance_after_nano: Number(acc.balance_nano), actor: e.actor, note: e.note,
    };
    await trx.insertInto("credit_ledger").values(row).execute();
    if (e.amountNano > 0) await trx.updateTable("credit_accounts").set({ last_credit_seq: row.seq }).where("org_id", "=", e.orgId).execute();
    return row;
  }

  /** Newest first; `beforeSeq` pages back. */
  async listLedger(orgId: string, limit: number, beforeSeq?: number): Promise<CreditLedgerRow[]> {
    let q = this.database.db.selectFrom("credit_ledger").selectAll().where("org_id", "=", orgId);
    if (beforeSeq !== undefined) q = q.where("seq", "<", beforeSeq);
    return q.orderBy("seq", "desc").limit(limit).execute();
  }

  async seqOf(orgId: string, id: string): Promise<number | null> {
    const r = await this.database.db.selectFrom("credit_ledger").select("seq").where("org_id", "=", orgId).where("id", "=", id).executeTakeFirst();
    return r ? Number(r.seq) : null;
  }

  /**
   * The balance now: the ledger's sum (the account row) minus the cost of usage made since credits
   * were enabled that the roll-up has not charged yet. Both read in one snapshot, so an event is
   * never counted both as charged and as pending.
   */
  async balance(orgId: string): Promise<{ account: CreditAccountRow | null; balanceNano: number; pendingNano: number }> {
    return inTransaction(this.database, async (trx) => {
      const account = await this.getAccount(orgId, trx);
      if (!account) return { account: null, balanceNano: 0, pendingNano: 0 };
      let pendingNano = 0;
      if (account.enabled_at !== null) {
        const r = await trx.selectFrom("usage_events").select((eb) => eb.fn.sum<number>("cost_nano").as("c"))
          .where("rolled_at", "is", null).where("org_id", "=", orgId).where("at", ">=", account.enabled_at)
          .where("key_id", "not in", testKeyIds(trx)).executeTakeFirst();
        pendingNano = Number(r?.c ?? 0);
      }
      return { account, balanceNano: Number(account.balance_nano) - pendingNano, pendingNano };
    }, { isolation: "repeatable read" });
  }

  async ledgerSum(orgId: string): Promise<number> {
    const r = await this.database.db.selectFrom("credit_ledger").select((eb) => eb.fn.sum<number>("amount_nano").as("s")).where("org_id", "=", orgId).executeTakeFirst();
    return Number(r?.s ?? 0);
  }
}

/** What the roll-up charges: the cost of rolled events made with live keys while credits were enabled. */
export async function chargeRolledUsage(
  credits: CreditStore, trx: Kysely<Tables>, events: readonly { org_id: string; key_id: string; at: number; cost_nano: number }[], now: number, newLedgerId: () => string,
): Promise<void> {
  const accounts = await credits.enabledAccounts(trx);
  if (accounts.length === 0) return;
  const testKeys = new Set((await testKeyIds(trx).execute()).map((k) => k.id));
  for (const acc of accounts) {
    let cost = 0;
    let n = 0;
    for (const e of events) {
      if (e.org_id === acc.org_id && e.at >= acc.enabled_at! && Number(e.cost_nano) > 0 && !testKeys.has(e.key_id)) {
        cost += Number(e.cost_nano);
        n += 1;
      }
    }
    if (cost > 0) {
      await credits.append({ orgId: acc.org_id, id: newLedgerId(), at: now, kind: "usage", amountNano: -cost, actor: "system", note: `usage of ${n} requests` }, trx);
    }
  }
}
