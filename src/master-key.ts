import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The master key that wraps every provider credential's data key: LATCHKEY_MASTER_KEY (64 hex
 * characters or base64 of 32 bytes), else `<dataDir>/master.key`, created with mode 0600 on first run.
 */
export function loadMasterKey(configured: string | undefined, dataDir: string): { key: Buffer; source: string; created: boolean } {
  if (configured) return { key: decodeMasterKey(configured), source: "LATCHKEY_MASTER_KEY", created: false };
  const file = join(dataDir, "master.key");
  if (existsSync(file)) return { key: decodeMasterKey(readFileSync(file, "utf8").trim()), source: file, created: false };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return { key, source: file, created: true };
}

export function decodeMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length !== 32) throw new Error("the master key must be 32 bytes: 64 hex characters or base64");
  return key;
}
