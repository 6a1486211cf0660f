import { leakDigest } from "../lib/index.js";
import type { Finding, KeyStatusNote, ScanResult } from "../leaks/index.js";
import { CliError, EXIT, type CliContext } from "./context.js";

const LOOKUP_BATCH = 1000;

interface CredentialLookup {
  data: { sha256: string; found: boolean; credentials: { id: string; name: string; provider: string; hint: string; part: string; rotate: string }[] }[];
}

/**
 * Asks the server whether the non-Latchkey secrets found are provider credentials it holds, by the
 * SHA-256 of each (never the plaintext). The server raises `credential.leaked` for each it holds.
 */
export async function checkCredentials(ctx: CliContext, result: ScanResult, source: string): Promise<KeyStatusNote> {
  const byDigest = new Map<string, Finding[]>();
  for (const f of result.findings) {
    if (f.ruleId === "latchkey-key") continue;
    const digest = leakDigest(f.secret);
    byDigest.set(digest, [...(byDigest.get(digest) ?? []), f]);
  }
  const notes: KeyStatusNote = {};
  const digests = [...byDigest.keys()];
  try {
    for (let i = 0; i < digests.length; i += LOOKUP_BATCH) {
      const body = { sha256: digests.slice(i, i + LOOKUP_BATCH), source: source.slice(0, 500) };
      const answer = (await ctx.api("POST", "/api/v1/credentials/lookup", body)) as CredentialLookup;
      for (const entry of answer.data) {
        const note = entry.credentials.length === 0
          ? "not a provider credential of this server"
          : entry.credentials.map((c) => `HELD BY THIS SERVER: ${c.id} "${c.name}" (${c.provider}, ${c.hint}, ${c.part}). ${c.rotate}`).join("\n    ");
        for (const f of byDigest.get(entry.sha256) ?? []) notes[f.fingerprint] = note;
      }
    }
  } catch (err) {
    // A key without credentials:read still gets its Latchkey keys checked; the rest is said to be unchecked.
    if (err instanceof CliError && err.exitCode === EXIT.refused) {
      ctx.err.write(`warning: --check: provider credentials not checked: ${err.message}\n`);
      for (const list of byDigest.values()) for (const f of list) notes[f.fingerprint] ??= `provider credentials not checked (${err.message})`;
      return notes;
    }
    throw new CliError(`--check: ${(err as Error).message}`, EXIT.usage);
  }
  return notes;
}
