import { request } from "undici";
import { getProvider } from "./registry.js";
import { splitBaseUrl } from "./types.js";
import { openaiPrefix } from "./openai/index.js";
import { probeCloud } from "./probe-clouds.js";

export interface ProbeResult {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  message: string;
}

/** Checks a credential with the cheapest authenticated call its provider has: listing models (the clouds: see probeCloud). */
export async function probeCredential(provider: string, baseUrl: string | null, secret: string, timeoutMs = 10_000, settings: Record<string, string> = {}): Promise<ProbeResult> {
  const p = getProvider(provider);
  if (!p) return { ok: false, status: null, latencyMs: 0, message: `unknown provider ${provider}` };
  if (provider === "bedrock" || provider === "vertex" || provider === "azure-openai") return probeCloud(p, { id: "probe", baseUrl, secret, settings }, timeoutMs);
  const { origin, prefix } = splitBaseUrl(baseUrl ?? p.baseUrlFor?.(settings) ?? p.defaultBaseUrl);
  const [path, headers]: [string, Record<string, string>] =
    provider === "anthropic" ? [`${prefix}/v1/models`, { "x-api-key": secret, "anthropic-version": "2023-06-01" }]
      : provider === "gemini" ? [`${prefix}/v1beta/models`, { "x-goog-api-key": secret }]
        : provider === "simulator" ? [`${prefix}/v1/models`, { authorization: `Bearer ${secret}` }]
          : [`${openaiPrefix(prefix)}/models`, { authorization: `Bearer ${secret}` }];
  const started = performance.now();
  try {
    const r = await request(origin + path, { method: "GET", headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await r.body.dump();
    const latencyMs = Math.round(performance.now() - started);
    const ok = r.statusCode >= 200 && r.statusCode < 300;
    return { ok, status: r.statusCode, latencyMs, message: ok ? "the provider accepted the credential" : `the provider answered ${r.statusCode}` };
  } catch (err) {
    return { ok: false, status: null, latencyMs: Math.round(performance.now() - started), message: `could not reach the provider: ${(err as Error).message}` };
  }
}
