import { sha256Hex } from "../lib/index.js";
import type { Finding } from "./types.js";

/** A key of this deployment, as `POST /api/v1/keys/lookup` answers it. */
export interface LookedUpKey {
  id: string;
  name: string;
  status: string;
  workspace_id: string;
  hint: string;
}

export interface LookupAnswer {
  data: { sha256: string; found: boolean; key: LookedUpKey | null }[];
}

export const LOOKUP_BATCH = 1000;

/** SHA-256 of each distinct Latchkey key found (what `--check` sends; never the plaintext). */
export function latchkeyKeyHashes(findings: readonly Finding[]): Map<string, Finding[]> {
  const bySha = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.ruleId !== "latchkey-key") continue;
    const sha = sha256Hex(f.secret);
    const list = bySha.get(sha);
    if (list) list.push(f);
    else bySha.set(sha, [f]);
  }
  return bySha;
}

/** A key that should be revoked after a leak: found, and not revoked already. */
export function needsRevocation(key: LookedUpKey | null): key is LookedUpKey {
  return key !== null && key.status !== "revoked";
}

export function describeLookedUpKey(key: LookedUpKey | null, revoked = false): string {
  if (!key) return "not a key of this server (unknown, or another organization's)";
  const state = revoked ? "revoked now" : key.status === "active" ? "LIVE" : key.status;
  return `${state}: ${key.id} "${key.name}" (${key.hint}, workspace ${key.workspace_id})`;
}
