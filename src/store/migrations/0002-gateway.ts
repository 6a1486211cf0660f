import type { Kysely, Migration } from "kysely";

/**
 * Provider credentials (envelope-encrypted upstream keys) and the model catalog with its price
 * history: a price row takes effect at `effective_at`, so a usage event is priced with the row in
 * force at its own time, and changing a price never reprices the past.
 */
export const gateway: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("provider_credentials")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
      .addColumn("workspace_id", "text", (c) => c.references("workspaces.id"))
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("base_url", "text")
      .addColumn("weight", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("hint", "text", (c) => c.notNull())
      .addColumn("wrapped_key", "text", (c) => c.notNull())
      .addColumn("ciphertext", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("created_by", "text")
      .execute();
    await db.schema.createIndex("provider_credentials_org").on("provider_credentials").columns(["org_id", "provider"]).execute();

    await db.schema.createTable("models")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("display_name", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("aliases", "text", (c) => c.notNull().defaultTo("[]"))
      .addColumn("max_output_tokens", "integer", (c) => c.notNull())
      .addColumn("context_window", "integer", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema.createTable("model_prices")
      .addColumn("model_id", "text", (c) => c.notNull().references("models.id").onDelete("cascade"))
      .addColumn("effective_at", "bigint", (c) => c.notNull())
      .addColumn("input_micro", "bigint", (c) => c.notNull())
      .addColumn("output_micro", "bigint", (c) => c.notNull())
      .addColumn("cache_write_micro", "bigint", (c) => c.notNull())
      .addColumn("cache_read_micro", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("model_prices_pk", ["model_id", "effective_at"])
      .execute();
  },
};
