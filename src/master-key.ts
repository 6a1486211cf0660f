import { createHmac, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Start-up cannot go on with the master key it has: named, so the operator knows what to restore. */
export class MasterKeyError extends Error {
  override readonly name = "MasterKeyError";
}

export interface LoadedMasterKey { key: Buffer; source: string; created: boolean }

/**
 * The master key that wraps every provider credential's data key: LATCHKEY_MASTER_KEY (64 hex
 * characters or base64 of 32 bytes), else `<dataDir>/master.key`, created with mode 0600 on first run.
 * `encryptedRecords` is how many stored records the key must open: with any, a missing key is
 * never generated (a new key would open none of them, and every credential would fail later).
 */
export function loadMasterKey(configured: string | undefined, dataDir: string, encryptedRecords = 0): LoadedMasterKey {
  if (configured) return { key: decodeMasterKey(configured), source: "LATCHKEY_MASTER_KEY", created: false };
  const file = join(dataDir, "master.key");
  if (existsSync(file)) return { key: decodeMasterKey(readFileSync(file, "utf8").trim()), source: file, created: false };
  if (encryptedRecords > 0) {
    throw new MasterKeyError(`the database holds ${encryptedRecords} encrypted record${encryptedRecords === 1 ? "" : "s"} (provider credentials, webhook secrets) `
      + `but there is no master key: neither LATCHKEY_MASTER_KEY nor ${file} is set. Restore the master key that goes with this database `
      + "(a backup records its fingerprint); a new key would open none of them, so none is generated");
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return { key, source: file, created: true };
}

/**
 * The master key being replaced (LATCHKEY_MASTER_KEY_PREVIOUS), or null. While nodes roll to a new
 * key each holds both: records open with either, and new ones are sealed under the current key.
 */
export function loadPreviousMasterKey(configured: string | undefined, current: Buffer): Buffer | null {
  if (!configured) return null;
  const key = decodeMasterKey(configured);
  if (key.equals(current)) throw new MasterKeyError("LATCHKEY_MASTER_KEY_PREVIOUS is the same key as the current master key: set it to the key being replaced, or unset it");
  return key;
}

export function decodeMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length !== 32) throw new Error("the master key must be 32 bytes: 64 hex characters or base64");
  return key;
}

/** A short public name for a master key (an HMAC under it, so it reveals nothing of the key). */
export function masterKeyFingerprint(key: Buffer): string {
  return createHmac("sha256", key).update("latchkey master key fingerprint").digest("hex").slice(0, 16);
}
