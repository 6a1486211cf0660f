import { sql, type Kysely, type Migration } from "kysely";

/**
 * Test keys by id (store/test-usage.ts). Spend totals above a key, credit balances and reports
 * leave out test usage with `key_id not in (select id from api_keys where kind = 'test')`, and
 * with no index on kind that subquery read every key: 180 ms a read among a million keys, and spend
 * alerts and balances read it once a second for each organization and workspace with a limit.
 * Partial, so it holds only the test keys; 2-3 ms then. Both dialects take the same statement.
 */
export const testKeyIndex: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`create index api_keys_test on api_keys (id) where kind = 'test'`.execute(db);
  },
};
