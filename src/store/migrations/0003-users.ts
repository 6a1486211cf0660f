import type { Kysely, Migration } from "kysely";

/**
 * Console people: users with scrypt password hashes and a role, their sessions and invitations.
 * Sessions and invitations keep only the SHA-256 of their token, so a copy of the database
 * cannot be used to sign in.
 */
export const users: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("users")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
      .addColumn("email", "text", (c) => c.notNull().unique())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("password_hash", "text", (c) => c.notNull())
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("workspace_ids", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addColumn("last_sign_in_at", "bigint")
      .execute();

    await db.schema.createTable("user_sessions")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id"))
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("last_seen_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("client_ip", "text")
      .addColumn("user_agent", "text")
      .execute();
    await db.schema.createIndex("user_sessions_user").on("user_sessions").columns(["user_id"]).execute();

    await db.schema.createTable("user_invitations")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("org_id", "text", (c) => c.notNull().references("organizations.id"))
      .addColumn("email", "text", (c) => c.notNull())
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("workspace_ids", "text")
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("accepted_at", "bigint")
      .execute();
  },
};
