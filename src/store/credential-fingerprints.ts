import type { Kysely } from "kysely";
import { openSecretWithAny, sealingKey, type MasterKeys } from "../lib/envelope.js";
import { credentialFingerprints, fingerprintKey } from "../lib/index.js";
import { credentialAad } from "./credential-aad.js";
import { inTransaction, type Database } from "./database.js";
import type { Tables } from "./schema.js";

export interface CredentialFingerprintRow {
  credential_id: string;
  org_id: string;
  fingerprint: string;
  part: string;
}

declare module "./schema.js" {
  interface Tables {
    credential_fingerprints: CredentialFingerprintRow;
  }
}

/** A provider credential one of whose parts has this fingerprint. */
export interface FingerprintMatch {
  fingerprint: string;
  part: string;
  credentialId: string;
  orgId: string;
  workspaceId: string | null;
  provider: string;
  name: string;
  hint: string;
}

/** Writes a credential's leak fingerprints (after any earlier ones of its own: a changed secret). */
export async function writeFingerprints(
  db: Kysely<Tables>, credential: { id: string; orgId: string }, secret: string, masterKey: Buffer,
): Promise<void> {
  await db.deleteFrom("credential_fingerprints").where("credential_id", "=", credential.id).execute();
  const rows = credentialFingerprints(fingerprintKey(masterKey), secret)
    .map((f) => ({ credential_id: credential.id, org_id: credential.orgId, fingerprint: f.fingerprint, part: f.part }));
  await db.insertInto("credential_fingerprints").values(rows).onConflict((oc) => oc.doNothing()).execute();
}

/** "Is this one of ours?": leak fingerprints of provider credentials, never the secrets. */
export class CredentialFingerprintStore {
  constructor(private readonly database: Database) {}

  /** The credentials (of one organization, or of any when `orgId` is null) having any of these fingerprints. */
  async find(fingerprints: readonly string[], orgId: string | null): Promise<FingerprintMatch[]> {
    if (fingerprints.length === 0) return [];
    let q = this.database.db.selectFrom("credential_fingerprints as f")
      .innerJoin("provider_credentials as c", "c.id", "f.credential_id")
      .select(["f.fingerprint", "f.part", "c.id", "c.org_id", "c.workspace_id", "c.provider", "c.name", "c.hint"])
      .where("f.fingerprint", "in", [...new Set(fingerprints)]);
    if (orgId !== null) q = q.where("f.org_id", "=", orgId);
    const rows = await q.orderBy("c.id").execute();
    return rows.map((r) => ({
      fingerprint: r.fingerprint, part: r.part, credentialId: r.id, orgId: r.org_id, workspaceId: r.workspace_id,
      provider: r.provider, name: r.name, hint: r.hint,
    }));
  }

  /**
   * Gives every credential without fingerprints its own (credentials stored before they existed).
   * Safe on several nodes at once: rows are keyed by credential and fingerprint. Returns how many.
   */
  async backfill(masterKey: MasterKeys): Promise<number> {
    const db = this.database.db;
    const missing = await db.selectFrom("provider_credentials as c")
      .select(["c.id", "c.org_id", "c.provider", "c.wrapped_key", "c.ciphertext"])
      .where((eb) => eb.not(eb.exists(eb.selectFrom("credential_fingerprints as f").select("f.credential_id").whereRef("f.credential_id", "=", "c.id"))))
      .execute();
    for (const c of missing) {
      const secret = openSecretWithAny(masterKey, { wrappedKey: c.wrapped_key, ciphertext: c.ciphertext }, credentialAad(c.id, c.provider));
      await inTransaction(this.database, (trx) => writeFingerprints(trx, { id: c.id, orgId: c.org_id }, secret, sealingKey(masterKey)));
    }
    return missing.length;
  }
}
