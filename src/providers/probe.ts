import { request, type Dispatcher } from "undici";
import { getProvider } from "./registry.js";
import { splitBaseUrl } from "./types.js";
import { openaiPrefix } from "./openai/index.js";
import { probeCloud } from "./probe-clouds.js";

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

/** Checks a credential with the cheapest authenticated call its provider has: listing models (the clouds: see probeCloud). */
export async function probeCredential(
  provider: string, baseUrl: string | null, secret: string, timeoutMs = 10_000, settings: Record<string, string> = {},
  /** Where the request goes through: the server passes its outbound address policy's agent. */
  dispatcher?: Dispatcher,
): Promise<ProbeResult> {
  const p = getProvider(provider);
  if (!p) return { ok: false, status: null, latencyMs: null, message: `unknown provider ${provider}` };
  if (provider === "bedrock" || provider === "vertex" || provider === "azure-openai") return probeCloud(p, { id: "probe", baseUrl, secret, settings }, timeoutMs, dispatcher);
  const { origin, prefix } = splitBaseUrl(baseUrl ?? p.baseUrlFor?.(settings) ?? p.defaultBaseUrl);
  const [path, headers]: [string, Record<string, string>] =
    provider === "anthropic" ? [`${prefix}/v1/models`, { "x-api-key": secret, "anthropic-version": "2023-06-01" }]
      : provider === "gemini" ? [`${prefix}/v1beta/models`, { "x-goog-api-key": secret }]
        : provider === "simulator" ? [`${prefix}/v1/models`, { authorization: `Bearer ${secret}` }]
          : [`${openaiPrefix(prefix)}/models`, { authorization: `Bearer ${secret}` }];
  const started = performance.now();
  try {
    const r = await request(origin + path, { method: "GET", headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...(dispatcher ? { dispatcher } : {}) });
    await r.body.dump().catch(() => undefined);
    return probeOutcome(r.statusCode, Math.round(performance.now() - started));
  } catch {
    return probeOutcome(null, 0);
  }
}
