/**
 * Test keys' usage is simulated (DESIGN.md, key kinds): it is never charged to credits, never
 * counted in a workspace's or the organization's spend totals and limits, and reports show it
 * apart. A key's kind never changes, so "made with a test key" is read from the key's record
 * whenever it is needed instead of being copied onto every event and roll-up row.
 */
import { sql, type ExpressionBuilder, type Kysely } from "kysely";
import type { Tables } from "./schema.js";

/**
 * The ids of test keys, as a subquery. The kind is a literal, not a parameter, so that the
 * statement names the partial index's own condition (migration 0015) on both dialects.
 */
export function testKeyIds(db: Kysely<Tables>) {
  return db.selectFrom("api_keys").select("api_keys.id").where("api_keys.kind", "=", sql.lit("test"));
}

/** A filter on usage_events or usage_rollups: only usage of test keys (`test`), or none of it. */
export function byTestUsage(db: Kysely<Tables>, test: boolean) {
  return (eb: ExpressionBuilder<Tables, "usage_events" | "usage_rollups">) =>
    eb(eb.ref("key_id"), test ? "in" : "not in", testKeyIds(db));
}

/** The same for raw SQL over usage_events. */
export const NOT_TEST_USAGE = sql`key_id not in (select id from api_keys where kind = 'test')`;
