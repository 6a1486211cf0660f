import type { Kysely, Migration } from "kysely";

/**
 * Leak fingerprints of provider credentials: one row per part of a secret that can leak on its
 * own (the whole secret, a service-account key's private key and key id, an access-key pair's
 * halves), each an HMAC under a key derived from the master key. Credentials that exist before
 * this migration get theirs at the next start-up, when the master key is at hand.
 */
export const credentialFingerprints: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createTable("credential_fingerprints")
      .addColumn("credential_id", "text", (c) => c.notNull().references("provider_credentials.id").onDelete("cascade"))
      .addColumn("org_id", "text", (c) => c.notNull())
      .addColumn("fingerprint", "text", (c) => c.notNull())
      .addColumn("part", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("credential_fingerprints_pk", ["credential_id", "fingerprint"])
      .execute();
    await db.schema.createIndex("credential_fingerprints_lookup").on("credential_fingerprints").columns(["fingerprint"]).execute();
  },
};
