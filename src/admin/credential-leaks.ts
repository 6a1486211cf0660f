import { masterKeyList } from "../lib/envelope.js";
import { fingerprintKey, fingerprintOfDigest } from "../lib/index.js";
import { rotationAdvice } from "../leaks/index.js";
import type { FingerprintMatch } from "../store/index.js";
import type { AdminServices } from "./services.js";

/** A provider credential a leak digest belongs to, as the API shows it (never the secret). */
export interface LeakedCredentialView {
  id: string;
  name: string;
  provider: string;
  hint: string;
  workspace_id: string | null;
  /** Which part of the secret was found: "secret", or a field such as "private_key". */
  part: string;
  rotate: string;
  /** True when this report fired the credential's `credential.leaked` alert (it fires once). */
  alerted: boolean;
}

/**
 * "Is this one of ours?" for found secrets, by leak digest (SHA-256 of the canonical secret): the
 * provider credentials they belong to (in `orgId`, or in any organization for a GitHub report),
 * each raising its `credential.leaked` alert once, naming the credential and how to rotate it.
 */
export async function checkLeakedCredentials(
  s: AdminServices, digests: readonly string[], orgId: string | null, found: Record<string, unknown>,
): Promise<Map<string, LeakedCredentialView[]>> {
  // While nodes roll to a new master key, fingerprints may be keyed from either: look under both.
  const digestOf = new Map<string, string>();
  for (const k of masterKeyList(s.masterKey)) {
    const key = fingerprintKey(k);
    for (const d of digests) digestOf.set(fingerprintOfDigest(key, d), d);
  }
  const matches = await s.store.credentialFingerprints.find([...digestOf.keys()], orgId);
  const out = new Map<string, LeakedCredentialView[]>();
  for (const m of matches) {
    const digest = digestOf.get(m.fingerprint)!;
    const view = await raise(s, m, found);
    out.set(digest, [...(out.get(digest) ?? []), view]);
  }
  return out;
}

async function raise(s: AdminServices, m: FingerprintMatch, found: Record<string, unknown>): Promise<LeakedCredentialView> {
  const rotate = rotationAdvice({ id: m.credentialId, name: m.name, provider: m.provider });
  const alerted = await s.alerts.credentialLeaked(m.orgId, m.credentialId, {
    name: m.name, provider: m.provider, hint: m.hint, workspace_id: m.workspaceId, part: m.part, found, rotate,
  });
  if (alerted) s.logger.warn({ credentialId: m.credentialId, provider: m.provider, part: m.part, found }, "provider credential found leaked");
  return { id: m.credentialId, name: m.name, provider: m.provider, hint: m.hint, workspace_id: m.workspaceId, part: m.part, rotate, alerted };
}
