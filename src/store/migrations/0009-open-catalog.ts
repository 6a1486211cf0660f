import type { Kysely, Migration } from "kysely";

/**
 * The open catalog's imported family prices (a model matched by a pattern such as
 * `claude-opus-*` is priced by the first family that matches; imported rows take precedence over
 * the shipped list), and the batches already metered: a batch is billed when its results are
 * first read, and the primary key makes a second read bill nothing.
 */
export const openCatalog: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("model_families")
      .addColumn("pattern", "text", (c) => c.primaryKey())
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("max_output_tokens", "integer", (c) => c.notNull())
      .addColumn("context_window", "integer", (c) => c.notNull())
      .addColumn("input_micro", "bigint", (c) => c.notNull())
      .addColumn("output_micro", "bigint", (c) => c.notNull())
      .addColumn("cache_write_micro", "bigint", (c) => c.notNull())
      .addColumn("cache_read_micro", "bigint", (c) => c.notNull())
      .addColumn("position", "integer", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema.createTable("metered_batches")
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("batch_id", "text", (c) => c.notNull())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("request_id", "text", (c) => c.notNull())
      .addColumn("metered_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("metered_batches_pk", ["provider", "batch_id"])
      .execute();
  },
};
