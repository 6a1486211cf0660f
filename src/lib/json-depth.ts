/** How deep a management body may nest: far beyond any real request, far below what recursion survives. */
export const MAX_JSON_DEPTH = 64;

/**
 * How deep a gateway request body may nest. Tool input schemas nest two levels per schema level,
 * so this is twice the management limit; a body past it overflowed the recursive codecs and the
 * simulator (a 500).
 */
export const MAX_GATEWAY_JSON_DEPTH = 128;

/**
 * Whether a parsed JSON value nests deeper than `max` arrays/objects. The walk stops at `max`
 * levels, so it cannot itself overflow; the point is to refuse what would overflow the recursive
 * walkers after it (validation, codecs, canonical JSON, stringify), which turned a 5,000-deep body
 * into a 500. It visits each array and object once, allocating nothing (it runs on every gateway
 * request).
 */
export function nestsDeeperThan(value: unknown, max = MAX_JSON_DEPTH): boolean {
  return deeper(value, max);
}

function deeper(v: unknown, levelsLeft: number): boolean {
  if (v === null || typeof v !== "object") return false;
  if (levelsLeft === 0) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (deeper(v[i], levelsLeft - 1)) return true;
    return false;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) if (deeper(o[k], levelsLeft - 1)) return true;
  return false;
}
