import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

/*
 * Seals of the audit chain. The chain itself is SHA-256 (each record's hash covers the previous
 * hash and the record), which anyone who can write the database can recompute after an edit. The
 * seals are HMACs under a key derived from the master key, which the database never holds: one per
 * record (its position and hash), one on the head (count, last hash, where sealing began) and one
 * on each exported checkpoint. Rewriting a record, or cutting records from the end, then needs the
 * master key. A new master key re-seals; the hashes, and so checkpoints' positions and hashes, stay.
 */

const INFO = "latchkey audit chain v1";

/** The HMAC key of the audit chain: HKDF-SHA-256 of the master key; never stored. */
export function auditKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), INFO, 32));
}

function hmac(key: Buffer, text: string): string {
  return createHmac("sha256", key).update(text).digest("hex");
}

/** The seal of the record at `position` (1-based, in chain order) whose chain hash is `hash`. */
export function recordSeal(key: Buffer, position: number, hash: string): string {
  return hmac(key, `record\n${position}\n${hash}`);
}

/** The seal of the chain's head: how many records, the last hash, and how many came before sealing began. */
export function headSeal(key: Buffer, count: number, hash: string, sealedAfter: number): string {
  return hmac(key, `head\n${count}\n${hash}\n${sealedAfter}`);
}

/** The seal of an exported checkpoint. */
export function checkpointSeal(key: Buffer, count: number, hash: string, at: string): string {
  return hmac(key, `checkpoint\n${count}\n${hash}\n${at}`);
}

/** Compares a stored seal with the expected one in constant time; a missing or malformed seal never matches. */
export function sealMatches(stored: string | null | undefined, expected: string): boolean {
  if (typeof stored !== "string" || stored.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(stored), Buffer.from(expected));
}
