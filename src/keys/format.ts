import { crc32 } from "node:zlib";
import { decodeBase62, encodeBase62, isBase62, randomChars } from "../lib/index.js";

/** The four kinds of key (DESIGN.md, "Key kinds"). */
export const KEY_KINDS = ["live", "test", "publishable", "admin"] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

export type KeyPrefixes = Record<KeyKind, string>;

export const DEFAULT_KEY_PREFIXES: KeyPrefixes = {
  live: "lk_live_",
  test: "lk_test_",
  publishable: "lk_pub_",
  admin: "lk_admin_",
};

const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;

export function keyChecksum(body: string): string {
  return encodeBase62(crc32(body) >>> 0, CHECKSUM_LENGTH);
}

/** A new plaintext key: prefix, 30 random base62 characters, 6-character CRC-32 checksum. */
export function generateKey(prefix: string): string {
  const body = prefix + randomChars(RANDOM_LENGTH);
  return body + keyChecksum(body);
}

/**
 * The kind of a well-formed key, or null when the prefix is unknown, the length is wrong or the
 * checksum fails. Needs no store: this is what rejects typos and look-alikes before any lookup.
 */
export function parseKey(plaintext: string, prefixes: KeyPrefixes): KeyKind | null {
  for (const kind of KEY_KINDS) {
    const prefix = prefixes[kind];
    if (!plaintext.startsWith(prefix)) continue;
    if (plaintext.length !== prefix.length + RANDOM_LENGTH + CHECKSUM_LENGTH) continue;
    if (hasValidChecksum(plaintext)) return kind;
  }
  return null;
}

/** True when the last six characters are the CRC-32 of everything before them. */
export function hasValidChecksum(plaintext: string): boolean {
  if (plaintext.length <= CHECKSUM_LENGTH) return false;
  const body = plaintext.slice(0, -CHECKSUM_LENGTH);
  const sum = plaintext.slice(-CHECKSUM_LENGTH);
  if (!isBase62(sum)) return false;
  return decodeBase62(sum) === crc32(body) >>> 0;
}

/** The display hint: first 12 characters, "…", last 4. */
export function keyHint(plaintext: string): string {
  return `${plaintext.slice(0, 12)}…${plaintext.slice(-4)}`;
}

export const KEY_BODY_LENGTH = RANDOM_LENGTH + CHECKSUM_LENGTH;
