import { randomBytes } from "node:crypto";

export const BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Encodes a non-negative integer below 2^53 in base62, left-padded with "0" to `width`. */
export function encodeBase62(value: number, width = 0): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} in base62`);
  let out = "";
  let n = value;
  do {
    out = BASE62_ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, "0");
}

/** Decodes base62; returns NaN on a character outside the alphabet. */
export function decodeBase62(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const d = BASE62_ALPHABET.indexOf(text[i]!);
    if (d < 0) return Number.NaN;
    n = n * 62 + d;
  }
  return n;
}

// Random bytes drawn from the OS in blocks: one randomBytes call per id cost about 10 µs on
// the gateway's request path (every request gets an id); a block serves hundreds of ids.
const POOL_SIZE = 16 * 1024;
let pool = randomBytes(POOL_SIZE);
let poolOffset = 0;

function nextRandomByte(): number {
  if (poolOffset === POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  return pool[poolOffset++]!;
}

/** Uniformly random characters from `alphabet` (rejection sampling, no modulo bias). */
export function randomChars(length: number, alphabet = BASE62_ALPHABET): string {
  const limit = 256 - (256 % alphabet.length);
  // Character codes go to a scratch buffer and become one string: appending a character at a
  // time made a new string per character (ids are made on every gateway request).
  const out = length <= SCRATCH.length ? SCRATCH : Buffer.allocUnsafe(length);
  for (let i = 0; i < length;) {
    const b = nextRandomByte();
    if (b < limit) out[i++] = alphabet.charCodeAt(b % alphabet.length);
  }
  return out.toString("latin1", 0, length);
}
const SCRATCH = Buffer.allocUnsafe(64);

export function isBase62(text: string): boolean {
  return /^[0-9A-Za-z]*$/.test(text);
}
