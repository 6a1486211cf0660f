import { randomChars } from "./base62.js";

/** The closed set of id prefixes; every id in the system starts with one of these and "_". */
export const ID_PREFIXES = [
  "org", "wrk", "key", "cred", "usr", "req", "aud", "evt", "whk", "dlv", "alr", "ses", "inv", "leak", "mdl", "crd", "rsv",
] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * A new id: prefix, "_", 9 base36 digits of the current millisecond, 16 random base36 digits.
 * Lowercase base36 of fixed width sorts the same under every collation, so ids sort by creation
 * time in SQLite and PostgreSQL alike, which is what cursor pagination relies on.
 */
export function newId(prefix: IdPrefix, nowMs = Date.now()): string {
  return `${prefix}_${nowMs.toString(36).padStart(9, "0")}${randomChars(16, BASE36)}`;
}

export function hasIdPrefix(id: string, prefix: IdPrefix): boolean {
  return id.startsWith(`${prefix}_`) && /^[0-9a-z]{25}$/.test(id.slice(prefix.length + 1));
}
