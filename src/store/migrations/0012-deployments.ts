import { sql, type Kysely, type Migration } from "kysely";
import { isPostgres } from "./dialect.js";

/**
 * Deployments: a credential carries its provider settings (region, project, API version: not
 * secret, so not sealed), the models it serves (ids, patterns, upstream names, per-deployment
 * prices) and a priority. A usage event names the deployment (credential) that served it and how
 * many attempts it took; roll-ups gain the deployment as a dimension, so reports can split by it.
 */
export const deployments: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("provider_credentials").addColumn("settings", "text", (c) => c.notNull().defaultTo("{}")).execute();
    await db.schema.alterTable("provider_credentials").addColumn("models", "text", (c) => c.notNull().defaultTo("[]")).execute();
    await db.schema.alterTable("provider_credentials").addColumn("priority", "integer", (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable("usage_events").addColumn("deployment", "text").execute();
    await db.schema.alterTable("usage_events").addColumn("attempts", "integer", (c) => c.notNull().defaultTo(1)).execute();
    if (isPostgres(db)) {
      await sql`alter table usage_rollups add column deployment text not null default ''`.execute(db);
      await sql`alter table usage_rollups drop constraint usage_rollups_pk`.execute(db);
      await sql`alter table usage_rollups add constraint usage_rollups_pk
        primary key (width, org_id, bucket_start, workspace_id, key_id, provider, model, deployment)`.execute(db);
      return;
    }
    // SQLite cannot change a primary key in place: the table is rebuilt, as 0005 did.
    await sql`create table usage_rollups_next (
      width text not null, bucket_start bigint not null, org_id text not null, workspace_id text not null, key_id text not null,
      provider text not null, model text not null, deployment text not null default '', requests bigint not null, errors bigint not null,
      input_tokens bigint not null, cache_write_tokens bigint not null, cache_read_tokens bigint not null, output_tokens bigint not null,
      cost_nano bigint not null,
      constraint usage_rollups_pk primary key (width, org_id, bucket_start, workspace_id, key_id, provider, model, deployment)
    ) without rowid`.execute(db);
    await sql`insert into usage_rollups_next select width, bucket_start, org_id, workspace_id, key_id, provider, model, '', requests, errors,
      input_tokens, cache_write_tokens, cache_read_tokens, output_tokens, cost_nano from usage_rollups`.execute(db);
    await sql`drop table usage_rollups`.execute(db);
    await sql`alter table usage_rollups_next rename to usage_rollups`.execute(db);
    await db.schema.createIndex("usage_rollups_key").on("usage_rollups").columns(["width", "key_id", "bucket_start"]).execute();
    await db.schema.createIndex("usage_rollups_workspace").on("usage_rollups").columns(["width", "workspace_id", "bucket_start"]).execute();
  },
};
