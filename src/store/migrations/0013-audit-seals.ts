import { sql, type Kysely, type Migration } from "kysely";

/**
 * Seals on the audit chain (HMACs under a key derived from the master key, see lib/audit-seal.ts):
 * one per record and one on the head. Records written before this migration stay unsealed; the
 * head remembers how many there were (`sealed_after`), and the first sealed record's link covers them.
 */
export const auditSeals: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("audit_events").addColumn("seal", "text").execute();
    await db.schema.alterTable("audit_head").addColumn("seal", "text").execute();
    await db.schema.alterTable("audit_head").addColumn("sealed_after", "bigint", (c) => c.notNull().defaultTo(0)).execute();
    await sql`update audit_head set sealed_after = count`.execute(db);
  },
};
