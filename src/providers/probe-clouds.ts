import { request, type Dispatcher } from "undici";
import { AzureAuth } from "./azure-openai/index.js";
import { BedrockSigner, parseBedrockSecret } from "./bedrock/index.js";
import { probeOutcome, type ProbeResult } from "./probe-outcome.js";
import { splitBaseUrl, type CredentialInfo, type Provider } from "./types.js";
import { VertexToken } from "./vertex/index.js";

/**
 * The clouds' cheapest proofs: Vertex AI, a token minted from the service-account key; Azure
 * OpenAI, its model list with the key or Entra token; Bedrock, the control plane's model list,
 * signed (or with the API key). Nothing is generated, nothing billed.
 */
export async function probeCloud(p: Provider, c: CredentialInfo, timeoutMs: number, dispatcher?: Dispatcher): Promise<ProbeResult> {
  const started = performance.now();
  let link;
  try {
    link = p.connect!(dispatcher ? { ...c, dispatcher } : c);
  } catch {
    // The parser's own words may quote the secret; the shape expected is named instead.
    return { ok: false, status: null, latencyMs: null, message: `the secret is not in a form ${p.id} credentials take` };
  }
  try {
    await Promise.race([link.ready(), new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), timeoutMs).unref())]);
    if (link instanceof VertexToken) return { ...probeOutcome(200, Math.round(performance.now() - started)), message: "the token endpoint issued an access token for the service account" };
    let url: string;
    const headers: Record<string, string> = {};
    if (link instanceof AzureAuth) {
      const { origin, prefix } = splitBaseUrl(c.baseUrl ?? p.baseUrlFor!(c.settings));
      url = `${origin}${prefix}/openai/models?api-version=${encodeURIComponent(link.apiVersion)}`;
      const [name, value] = link.header();
      headers[name] = value;
    } else {
      const region = c.settings.region ?? "us-east-1";
      const { origin, prefix } = splitBaseUrl(c.baseUrl ?? `https://bedrock.${region}.amazonaws.com`);
      const path = `${prefix}/foundation-models?byProvider=anthropic`;
      url = origin + path;
      const secret = parseBedrockSecret(c.secret);
      if ("apiKey" in secret) headers.authorization = `Bearer ${secret.apiKey}`;
      else await new BedrockSigner(secret, region).sign(origin, path, headers, Buffer.alloc(0), undefined, "GET");
    }
    const r = await request(url, { method: "GET", headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...(dispatcher ? { dispatcher } : {}) });
    await r.body.dump().catch(() => undefined);
    return probeOutcome(r.statusCode, Math.round(performance.now() - started));
  } catch {
    return probeOutcome(null, 0);
  } finally {
    link.close();
  }
}
