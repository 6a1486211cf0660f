/** What a credential probe found (probe.ts for the API providers, probe-clouds.ts for the clouds). */
export interface ProbeResult {
  ok: boolean;
  /** The provider's status when it says something about the credential (2xx, 401, 403, 429); else null. */
  status: number | null;
  /** Null when no answer came: how long a failure took would tell a closed port from a filtered one. */
  latencyMs: number | null;
  message: string;
}

/**
 * A probe's outcome in words that say nothing about the network behind the URL: a refused
 * address, a closed port, a timeout, a reset and an answer from something that is not the provider
 * all read alike, and no upstream body or error text is passed on, so the credential test cannot be
 * used to map an internal network or read its services.
 */
export function probeOutcome(status: number | null, latencyMs: number): ProbeResult {
  if (status !== null && status >= 200 && status < 300) return { ok: true, status, latencyMs, message: "the provider accepted the credential" };
  if (status === 401 || status === 403) return { ok: false, status, latencyMs, message: "the provider refused the credential" };
  if (status === 429) return { ok: false, status, latencyMs, message: "the provider is limiting requests; try again later" };
  return { ok: false, status: null, latencyMs: null, message: "the provider could not be reached, or did not answer as the provider does" };
}
