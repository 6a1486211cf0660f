import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Envelope encryption (AES-256-GCM): each record gets a fresh 256-bit data key; the data key is
 * wrapped (encrypted) by the master key. Both layers bind the same associated data (the record id
 * and its context), so a wrapped key or ciphertext moved to another record fails to open.
 * Rotating the master key re-wraps data keys only; the secrets themselves are never re-encrypted.
 */
export interface Envelope {
  /** Data key encrypted by the master key: nonce(12) ‖ ciphertext(32) ‖ tag(16), base64. */
  wrappedKey: string;
  /** Secret encrypted by the data key: nonce(12) ‖ ciphertext ‖ tag(16), base64. */
  ciphertext: string;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export const MASTER_KEY_BYTES = 32;

/** Seals `secret` under a fresh data key wrapped by `masterKey`; `aad` binds it to its record. */
export function sealSecret(masterKey: Buffer, secret: string, aad: string): Envelope {
  assertKey(masterKey);
  const dataKey = randomBytes(32);
  try {
    return { wrappedKey: gcmEncrypt(masterKey, dataKey, aad), ciphertext: gcmEncrypt(dataKey, Buffer.from(secret, "utf8"), aad) };
  } finally {
    dataKey.fill(0);
  }
}

/** Opens an envelope; throws when the master key, the envelope or the associated data is wrong. */
export function openSecret(masterKey: Buffer, envelope: Envelope, aad: string): string {
  assertKey(masterKey);
  const dataKey = gcmDecrypt(masterKey, envelope.wrappedKey, aad);
  try {
    return gcmDecrypt(dataKey, envelope.ciphertext, aad).toString("utf8");
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The master keys a node holds: one key, or the current one followed by the one it replaces
 * (LATCHKEY_MASTER_KEY_PREVIOUS, while nodes roll to a new key). The first seals; any opens.
 */
export type MasterKeys = Buffer | readonly Buffer[];

export function masterKeyList(keys: MasterKeys): readonly Buffer[] {
  return Buffer.isBuffer(keys) ? [keys] : keys;
}

/** The key new records are sealed under: the current one. */
export function sealingKey(keys: MasterKeys): Buffer {
  return masterKeyList(keys)[0]!;
}

/** Opens an envelope with whichever of the keys sealed it; throws (the last key's error) when none does. */
export function openSecretWithAny(keys: MasterKeys, envelope: Envelope, aad: string): string {
  const list = masterKeyList(keys);
  for (let i = 0; i < list.length - 1; i++) {
    try {
      return openSecret(list[i]!, envelope, aad);
    } catch {
      // sealed under another of the keys
    }
  }
  return openSecret(list[list.length - 1]!, envelope, aad);
}

/** The same envelope with its data key re-wrapped by `newMaster` (master key rotation). */
export function rewrapEnvelope(oldMaster: Buffer, newMaster: Buffer, envelope: Envelope, aad: string): Envelope {
  assertKey(oldMaster);
  assertKey(newMaster);
  const dataKey = gcmDecrypt(oldMaster, envelope.wrappedKey, aad);
  try {
    return { wrappedKey: gcmEncrypt(newMaster, dataKey, aad), ciphertext: envelope.ciphertext };
  } finally {
    dataKey.fill(0);
  }
}

/** A master key from its text form: 64 hex digits or base64 of 32 bytes. */
export function parseMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length !== MASTER_KEY_BYTES) throw new RangeError("a master key is 32 bytes: 64 hex digits or base64");
  return key;
}

export function generateMasterKey(): Buffer {
  return randomBytes(MASTER_KEY_BYTES);
}

function gcmEncrypt(key: Buffer, plain: Buffer, aad: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64");
}

function gcmDecrypt(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, "base64");
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw new Error("sealed value too short");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
}

function assertKey(key: Buffer): void {
  if (key.length !== MASTER_KEY_BYTES) throw new RangeError("the master key must be 32 bytes");
}
