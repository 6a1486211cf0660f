import { request, type Dispatcher } from "undici";
import { getProvider } from "./registry.js";
import { splitBaseUrl } from "./types.js";
import { openaiPrefix } from "./openai/index.js";
import { probeCloud } from "./probe-clouds.js";
import { probeOutcome, type ProbeResult } from "./probe-outcome.js";

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
