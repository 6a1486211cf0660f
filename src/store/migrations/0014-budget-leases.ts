import type { Kysely, Migration } from "kysely";

/**
 * Durable budget leases (limits/budget.ts, LOST STATE): one row per request in flight on several
 * nodes, written before its reservation and deleted with the write of its usage record, so a
 * request whose node died is still charged by the lease rule, and a Redis that lost its state is
 * reloaded exactly. Rows live for the length of a request; the index finds the expired ones.
 * `lease_holders`: each node's last sign of life, so that only a dead node's leases are charged.
 */
export const budgetLeases: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("budget_leases")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("workspace_id", "text", (c) => c.notNull())
      .addColumn("key_id", "text", (c) => c.notNull())
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("endpoint", "text", (c) => c.notNull())
      .addColumn("holder", "text", (c) => c.notNull())
      .addColumn("amount_nano", "bigint", (c) => c.notNull())
      .addColumn("counters", "text", (c) => c.notNull())
      .addColumn("owner", "text", (c) => c.notNull())
      .addColumn("reserved_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("budget_leases_expires").on("budget_leases").column("expires_at").execute();
    await db.schema.createTable("lease_holders")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("seen_at", "bigint", (c) => c.notNull())
      .execute();
  },
};
