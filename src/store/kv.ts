import type { Database } from "./database.js";

/** Small named values (bootstrap state, settings) that need no table of their own. */
export class KvStore {
  constructor(private readonly database: Database) {}

  async get(key: string): Promise<string | null> {
    const row = await this.database.db.selectFrom("kv").select("value").where("key", "=", key).executeTakeFirst();
    return row?.value ?? null;
  }

  async set(key: string, value: string, now = Date.now()): Promise<void> {
    await this.database.db.insertInto("kv").values({ key, value, updated_at: now })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value, updated_at: now })).execute();
  }
}
