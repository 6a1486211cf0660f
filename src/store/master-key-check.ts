import { openSecret } from "../lib/envelope.js";
import { credentialAad } from "./credentials.js";
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
