/**
 * Byte-level helpers that find the usage object inside a response or an SSE chunk without parsing
 * the whole document: the gateway passes bytes through unchanged and parses only what it bills.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/** End index (exclusive) of the JSON object starting at `start` (a "{"), or -1 if incomplete. */
export function objectEnd(buf: Buffer, start: number, end = buf.length): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN) depth++;
    else if (c === CLOSE && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * Where the object value of the key that starts at `keyAt` (the opening quote of `"usage"` or
 * `"usageMetadata"`) begins, or -1 when the value is not an object (null, or not there yet).
 */
export function objectValueStart(buf: Buffer, keyAt: number, keyLength: number, end = buf.length): number {
  let i = keyAt + keyLength;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (buf[i] !== 0x3a) return -1;
  i++;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  return buf[i] === OPEN ? i : -1;
}
