import { crc32 } from "node:zlib";
import { decodeBase62, isBase62 } from "../lib/index.js";

// Re-implemented here rather than imported from keys/: domain folders never import each other,
// and a scanner must recognise a key with no database and no key service.

const CHECKSUM_LENGTH = 6;
const LATCHKEY_RANDOM_LENGTH = 30;

export const DEFAULT_LATCHKEY_PREFIXES: readonly string[] = ["lk_live_", "lk_test_", "lk_pub_", "lk_admin_"];

/** True when the last six base62 characters equal CRC-32 of `covered`. */
function checksumMatches(covered: string, sum: string): boolean {
  if (sum.length !== CHECKSUM_LENGTH || !isBase62(sum)) return false;
  return decodeBase62(sum) === crc32(covered) >>> 0;
}

/** A Latchkey key: prefix + 30 base62 + CRC-32 (base62, 6 chars) of everything before it. */
export function isValidLatchkeyKey(candidate: string, prefixes: readonly string[] = DEFAULT_LATCHKEY_PREFIXES): boolean {
  const prefix = prefixes.find((p) => candidate.startsWith(p));
  if (prefix === undefined) return false;
  if (candidate.length !== prefix.length + LATCHKEY_RANDOM_LENGTH + CHECKSUM_LENGTH) return false;
  const body = candidate.slice(prefix.length, -CHECKSUM_LENGTH);
  if (!isBase62(body)) return false;
  return checksumMatches(candidate.slice(0, -CHECKSUM_LENGTH), candidate.slice(-CHECKSUM_LENGTH));
}

/**
 * A GitHub token of the 2021 format (`ghp_` + 30 base62 + 6-char CRC-32 of the 30 random
 * characters only). The CRC input is inferred from two independent implementations.
 */
export function isValidGithubTokenChecksum(token: string): boolean {
  const underscore = token.indexOf("_");
  const random = token.slice(underscore + 1, -CHECKSUM_LENGTH);
  if (random.length !== 30 || !isBase62(random)) return false;
  return checksumMatches(random, token.slice(-CHECKSUM_LENGTH));
}

/** CRC-24 of OpenPGP ASCII armor (RFC 4880 §6.1): init 0xB704CE, polynomial 0x1864CFB. */
function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/**
 * The armor checksum of a PGP block (`=XXXX` after the base64 body): true or false when the block
 * carries one, null when it does not (RFC 9580 made it optional). The block may be escaped (`\n`).
 */
export function pgpArmorChecksum(block: string): boolean | null {
  // Each line as written, less the quotes and `+` of a concatenated string literal around it.
  const lines = block.replace(/\\+[rn]/g, "\n").split(/\r?\n/)
    .map((l) => l.trim().replace(/^\+?\s*["'`]/, "").replace(/["'`]\s*[+,]?$/, "").trim());
  const sumAt = lines.findIndex((l) => /^=[A-Za-z0-9+/]{4}$/.test(l));
  if (sumAt < 0) return null;
  const blank = lines.findIndex((l, i) => i > 0 && l === "");
  const body = lines.slice(blank > 0 ? blank + 1 : 1, sumAt).join("");
  if (!/^[A-Za-z0-9+/]+=*$/.test(body)) return false;
  const expected = Buffer.from(lines[sumAt]!.slice(1), "base64");
  return expected.length === 3 && expected.readUIntBE(0, 3) === crc24(Buffer.from(body, "base64"));
}
