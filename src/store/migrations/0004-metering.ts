import { sql, type Kysely, type Migration } from "kysely";

/**
 * Metering: hourly and daily usage roll-ups, the credit ledger, fired alerts and webhooks.
 *
 * `usage_events.rolled_at` marks an event as counted in the roll-ups. The roll-up job takes
 * unmarked events, adds them to the roll-ups and marks them in ONE transaction, so every event is
 * counted exactly once whatever restarts, replays (the insert skips known ids) or concurrent jobs
 * (PostgreSQL: FOR UPDATE SKIP LOCKED) happen. A partial index keeps the unmarked set cheap to find.
 */
export const metering: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("usage_events").addColumn("rolled_at", "bigint").execute();
    await sql`create index usage_events_unrolled on usage_events (at) where rolled_at is null`.execute(db);

    // width: 'h' or 'd'; bucket_start is the UTC hour or day in ms.
    await db.schema.createTable("usage_rollups")
      .addColumn("width", "text", (c) => c.notNull())
      .addColumn("bucket_start", "bigint", (c) => c.notNull())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("workspace_id", "text", (c) => c.notNull())
      .addColumn("key_id", "text", (c) => c.notNull())
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("requests", "bigint", (c) => c.notNull())
      .addColumn("errors", "bigint", (c) => c.notNull())
      .addColumn("input_tokens", "bigint", (c) => c.notNull())
      .addColumn("cache_write_tokens", "bigint", (c) => c.notNull())
      .addColumn("cache_read_tokens", "bigint", (c) => c.notNull())
      .addColumn("output_tokens", "bigint", (c) => c.notNull())
      .addColumn("cost_nano", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("usage_rollups_pk", ["width", "org_id", "bucket_start", "workspace_id", "key_id", "provider", "model"])
      .execute();
    await db.schema.createIndex("usage_rollups_key").on("usage_rollups").columns(["width", "key_id", "bucket_start"]).execute();
    await db.schema.createIndex("usage_rollups_workspace").on("usage_rollups").columns(["width", "workspace_id", "bucket_start"]).execute();

    await db.schema.createTable("credit_accounts")
      .addColumn("org_id", "text", (c) => c.primaryKey())
      .addColumn("balance_nano", "bigint", (c) => c.notNull())
      .addColumn("entries", "bigint", (c) => c.notNull())
      .addColumn("enabled_at", "bigint")
      .addColumn("low_balance_nano", "bigint")
      .addColumn("auto_top_up_amount_nano", "bigint")
      .addColumn("auto_top_up_below_nano", "bigint")
      .addColumn("last_credit_seq", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createTable("credit_ledger")
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("id", "text", (c) => c.notNull().unique())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("amount_nano", "bigint", (c) => c.notNull())
      .addColumn("balance_after_nano", "bigint", (c) => c.notNull())
      .addColumn("actor", "text", (c) => c.notNull())
      .addColumn("note", "text")
      .addPrimaryKeyConstraint("credit_ledger_pk", ["org_id", "seq"])
      .execute();

    await db.schema.createTable("alerts")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("subject_type", "text", (c) => c.notNull())
      .addColumn("subject_id", "text", (c) => c.notNull())
      .addColumn("period_key", "text", (c) => c.notNull())
      .addColumn("threshold", "integer", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("data", "text", (c) => c.notNull())
      // One alert per subject, period and threshold, however many nodes evaluate the crossing.
      .addUniqueConstraint("alerts_once", ["type", "subject_type", "subject_id", "period_key", "threshold"])
      .execute();
    await db.schema.createIndex("alerts_org").on("alerts").columns(["org_id", "id"]).execute();

    await db.schema.createTable("webhook_endpoints")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("url", "text", (c) => c.notNull())
      .addColumn("events", "text", (c) => c.notNull())
      .addColumn("secret_hint", "text", (c) => c.notNull())
      .addColumn("wrapped_key", "text", (c) => c.notNull())
      .addColumn("ciphertext", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("created_by", "text")
      .addColumn("deleted_at", "bigint")
      .execute();
    await db.schema.createTable("webhook_events")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("data", "text", (c) => c.notNull())
      .execute();
    await db.schema.createTable("webhook_deliveries")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("endpoint_id", "text", (c) => c.notNull())
      .addColumn("event_id", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull())
      .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
      .addColumn("locked_until", "bigint")
      .addColumn("last_status_code", "integer")
      .addColumn("last_error", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("webhook_deliveries_due").on("webhook_deliveries").columns(["status", "next_attempt_at"]).execute();
    await db.schema.createIndex("webhook_deliveries_endpoint").on("webhook_deliveries").columns(["endpoint_id", "id"]).execute();
    await db.schema.createTable("webhook_attempts")
      .addColumn("delivery_id", "text", (c) => c.notNull())
      .addColumn("attempt", "integer", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("status_code", "integer")
      .addColumn("error", "text")
      .addColumn("duration_ms", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("webhook_attempts_pk", ["delivery_id", "attempt"])
      .execute();
  },
};
