import type { IncomingMessage } from "node:http";

export type KeyReading = { key: string } | { problem: "missing" | "conflict" };

const KEY_HEADERS = new Set(["authorization", "x-api-key", "x-goog-api-key"]);
const KEY_HEADER_LENGTHS = new Set([...KEY_HEADERS].map((name) => name.length));

/**
 * The caller's key from `x-api-key`, `Authorization: Bearer`, `x-goog-api-key` or `?key=`.
 * Two different keys (or a repeated header) are refused rather than one being picked.
 */
export function readApiKey(req: IncomingMessage, queryKey: string | null): KeyReading {
  let found: string | null = queryKey;
  let conflict = false;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    // Only a name of a key header's length is lowercased (a copy per header otherwise).
    if (!KEY_HEADER_LENGTHS.has(raw[i]!.length)) continue;
    const name = raw[i]!.toLowerCase();
    if (!KEY_HEADERS.has(name)) continue;
    let value = raw[i + 1]!.trim();
    if (name === "authorization") {
      if (!/^bearer\s/i.test(value)) {
        conflict = true;
        continue;
      }
      value = value.slice(7).trim();
    }
    if (found === null) found = value;
    else if (found !== value) conflict = true;
    else if (name === "authorization" && countHeader(raw, "authorization") > 1) conflict = true;
  }
  if (conflict) return { problem: "conflict" };
  return found ? { key: found } : { problem: "missing" };
}

function countHeader(raw: string[], name: string): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) n++;
  return n;
}
