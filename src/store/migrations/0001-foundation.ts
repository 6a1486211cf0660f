import { sql, type Kysely, type Migration } from "kysely";
import { isPostgres } from "./dialect.js";

/** Organizations, workspaces, keys, the audit chain, raw usage events and a small settings table. */
export const foundation: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("organizations")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("rate_limits", "text")
      .addColumn("spend_limit", "text")
      .addColumn("settings", "text", (c) => c.notNull().defaultTo("{}"))
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema.createTable("workspaces")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("is_default", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("allowed_models", "text")
      .addColumn("rate_limits", "text")
      .addColumn("spend_limit", "text")
      .addColumn("archived_at", "bigint")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("workspaces_org").on("workspaces").columns(["org_id", "id"]).execute();

    await db.schema.createTable("api_keys")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
      .addColumn("workspace_id", "text", (c) => c.notNull().references("workspaces.id"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("key_hash", "text", (c) => c.notNull().unique())
      .addColumn("hint", "text", (c) => c.notNull())
      .addColumn("scopes", "text", (c) => c.notNull())
      .addColumn("allowed_models", "text")
      .addColumn("ip_allowlist", "text")
      .addColumn("allowed_origins", "text")
      .addColumn("rate_limits", "text")
      .addColumn("spend_limit", "text")
      .addColumn("metadata", "text", (c) => c.notNull().defaultTo("{}"))
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("expires_at", "bigint")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("created_by", "text")
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addColumn("last_used_at", "bigint")
      .addColumn("revoked_at", "bigint")
      .addColumn("rolled_from", "text")
      .execute();
    await db.schema.createIndex("api_keys_workspace").on("api_keys").columns(["workspace_id", "id"]).execute();
    await db.schema.createIndex("api_keys_org").on("api_keys").columns(["org_id", "id"]).execute();

    await db.schema.createTable("audit_events")
      .addColumn("seq", isPostgres(db) ? "bigserial" : "integer", (c) => (isPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement()))
      .addColumn("id", "text", (c) => c.notNull().unique())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("org_id", "text")
      .addColumn("actor", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("target", "text")
      .addColumn("changes", "text", (c) => c.notNull())
      .addColumn("request_id", "text")
      .addColumn("client_ip", "text")
      .addColumn("prev_hash", "text", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("audit_events_at").on("audit_events").columns(["at"]).execute();
    await db.schema.createIndex("audit_events_target").on("audit_events").columns(["target", "seq"]).execute();

    // The chain's head, one row: appending locks it, so concurrent writers on several nodes
    // still produce one unbroken chain.
    await db.schema.createTable("audit_head")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("hash", "text", (c) => c.notNull())
      .addColumn("count", "bigint", (c) => c.notNull())
      .execute();
    await sql`insert into audit_head (id, hash, count) values (1, ${"0".repeat(64)}, 0)`.execute(db);

    await db.schema.createTable("usage_events")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("workspace_id", "text", (c) => c.notNull())
      .addColumn("key_id", "text", (c) => c.notNull())
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("endpoint", "text", (c) => c.notNull())
      .addColumn("input_tokens", "bigint", (c) => c.notNull())
      .addColumn("output_tokens", "bigint", (c) => c.notNull())
      .addColumn("cache_write_tokens", "bigint", (c) => c.notNull())
      .addColumn("cache_read_tokens", "bigint", (c) => c.notNull())
      .addColumn("cost_nano", "bigint", (c) => c.notNull())
      .addColumn("status", "integer", (c) => c.notNull())
      .addColumn("error_code", "text")
      .addColumn("streamed", "integer", (c) => c.notNull())
      .addColumn("aborted", "integer", (c) => c.notNull())
      .addColumn("latency_ms", "integer", (c) => c.notNull())
      .addColumn("ttfb_ms", "integer")
      .execute();
    await db.schema.createIndex("usage_events_key_at").on("usage_events").columns(["key_id", "at"]).execute();
    await db.schema.createIndex("usage_events_workspace_at").on("usage_events").columns(["workspace_id", "at"]).execute();
    await db.schema.createIndex("usage_events_at").on("usage_events").columns(["at"]).execute();

    await db.schema.createTable("kv")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
  },
};
