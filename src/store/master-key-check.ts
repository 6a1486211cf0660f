import { openSecret } from "../lib/envelope.js";
import { webhookSecretAad } from "./alerts.js";
import { credentialAad } from "./credential-aad.js";
import { keyThatOpens } from "./credentials.js";
import type { Database } from "./database.js";

/** How many stored records are sealed under the master key (credentials and webhook signing secrets). */
export async function countEncryptedRecords(database: Database): Promise<number> {
  const c = await database.db.selectFrom("provider_credentials").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst();
  const w = await database.db.selectFrom("webhook_endpoints").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst();
  return Number(c?.n ?? 0) + Number(w?.n ?? 0);
}

/**
 * Whether `keys` open the stored credentials: the index of the first key that opens a sample
 * credential, or -1 when none does (null when there is no credential to try).
 */
export async function masterKeyOpens(database: Database, keys: Buffer[]): Promise<number | null> {
  const r = await database.db.selectFrom("provider_credentials").select(["id", "provider", "wrapped_key", "ciphertext"]).limit(1).executeTakeFirst();
  if (!r) return null;
  for (const [i, key] of keys.entries()) {
    try {
      openSecret(key, { wrappedKey: r.wrapped_key, ciphertext: r.ciphertext }, credentialAad(r.id, r.provider));
      return i;
    } catch {
      // not this key
    }
  }
  return -1;
}

/**
 * How many sealed records (credentials and webhook signing secrets) each of `keys` opens, in the
 * keys' order, followed by how many open with none of them: during a rolling rotation, what is
 * still under the previous key.
 */
export async function sealedRecordsByKey(database: Database, keys: readonly Buffer[]): Promise<number[]> {
  const counts = new Array<number>(keys.length + 1).fill(0);
  const tally = (envelope: { wrappedKey: string; ciphertext: string }, aad: string) => {
    const key = keyThatOpens(keys, envelope, aad);
    counts[key ? keys.indexOf(key) : keys.length]!++;
  };
  const creds = await database.db.selectFrom("provider_credentials").select(["id", "provider", "wrapped_key", "ciphertext"]).execute();
  for (const r of creds) tally({ wrappedKey: r.wrapped_key, ciphertext: r.ciphertext }, credentialAad(r.id, r.provider));
  const hooks = await database.db.selectFrom("webhook_endpoints").select(["id", "wrapped_key", "ciphertext"]).execute();
  for (const h of hooks) tally({ wrappedKey: h.wrapped_key, ciphertext: h.ciphertext }, webhookSecretAad(h.id));
  return counts;
}
