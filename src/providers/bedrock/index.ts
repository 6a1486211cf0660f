import { anthropicCodec } from "../dialects/anthropic/index.js";
import { decodeAnthropicRequest } from "../dialects/anthropic/request.js";
import { refuse } from "../dialects/canonical.js";
import { splitBaseUrl, type CredentialInfo, type CredentialLink, type Framing, type Provider, type Reframer, type UpstreamRequest } from "../types.js";
import { encodeConverseRequest, isAnthropicModel } from "./converse/request.js";
import { ConverseJsonToAnthropic } from "./converse/response.js";
import { ConverseStreamToSse } from "./converse/stream.js";
import { EventStreamToSse } from "./eventstream.js";
import { BedrockSigner, parseBedrockSecret } from "./signer.js";

export { BedrockSigner, parseBedrockSecret, type AwsKeys } from "./signer.js";
export { EventStreamToSse } from "./eventstream.js";
export { ConverseStreamToSse } from "./converse/stream.js";
export { isAnthropicModel } from "./converse/request.js";

/** The APIs a Bedrock credential may call a model through (its `api` setting). */
export const BEDROCK_APIS = ["invoke", "converse"] as const;

/** The reader that rewrites an answer framed as `framing` into the target's dialect. */
export function reframerFor(framing: Framing, model: string, requestId: string): Reframer {
  switch (framing) {
    case "aws-eventstream": return new EventStreamToSse();
    case "converse-stream": return new ConverseStreamToSse(model, requestId);
    case "converse-json": return new ConverseJsonToAnthropic(model, requestId);
  }
}

/**
 * Caller headers Bedrock gets: none. anthropic-version and anthropic-beta move into the body, the
 * content type is the signer's, and Bedrock's own headers (guardrails, service tier) change what is
 * billed or enforced, so they are the organization's choice, not a caller's.
 */
const BEDROCK_CLIENT_HEADERS: readonly string[] = [];

/** Per credential: its signer (access keys) or its API key (bearer). */
class BedrockLink implements CredentialLink {
  readonly signer: BedrockSigner | null;
  readonly bearer: string | null;
  /** Every model through Converse (the `api` setting), rather than only the non-Anthropic ones. */
  readonly converse: boolean;

  constructor(c: CredentialInfo) {
    this.converse = c.settings.api === "converse";
    const secret = parseBedrockSecret(c.secret);
    const region = c.settings.region ?? "us-east-1";
    this.signer = "apiKey" in secret ? null : new BedrockSigner(secret, region);
    this.bearer = "apiKey" in secret ? secret.apiKey : null;
  }

  ready(): null {
    return null;
  }

  close(): void {}
}

/** The InvokeModel body: the Messages body without `model` and `stream` (both are in the URL), with Bedrock's version. */
function invokeBody(r: UpstreamRequest): Buffer {
  const out: Record<string, unknown> = { anthropic_version: "bedrock-2023-05-31" };
  for (const [k, v] of Object.entries(r.body ?? {})) if (k !== "model" && k !== "stream") out[k] = v;
  if (r.beta) out.anthropic_beta = r.beta.split(",").map((b) => b.trim()).filter(Boolean);
  return Buffer.from(JSON.stringify(out));
}

/**
 * The Converse body for an Anthropic-dialect request (the gateway's own or a translated one):
 * through the canonical form, refusing by name what Converse cannot take.
 */
function converseBody(r: UpstreamRequest): Buffer {
  const canonical = decodeAnthropicRequest(r.body ?? {}, "Bedrock's Converse");
  const body = encodeConverseRequest(canonical, r.model, canonical.maxTokens ?? 4096);
  if (r.beta) {
    if (!isAnthropicModel(r.model)) refuse("anthropic-beta", "Bedrock's Converse", "applies to Anthropic models only");
    const extra = (body.additionalModelRequestFields ?? {}) as Record<string, unknown>;
    extra.anthropic_beta = r.beta.split(",").map((b) => b.trim()).filter(Boolean);
    body.additionalModelRequestFields = extra;
  }
  return Buffer.from(JSON.stringify(body));
}

/**
 * AWS Bedrock. Anthropic models go through InvokeModel and InvokeModelWithResponseStream (the
 * Messages body with Bedrock's version; the stream comes back in AWS event-stream framing,
 * re-framed as SSE); every other family, and Anthropic ones when the credential's `api` setting
 * says `converse`, through Converse and ConverseStream, whose answers are rewritten as Anthropic
 * Messages so the rest of the gateway (metering, translation to the caller) is the same for both.
 * The model id goes into the path; requests are signed with SigV4 per credential (region from its
 * settings) or carry an API key.
 */
export const bedrock: Provider = {
  id: "bedrock",
  dialects: ["anthropic"],
  codec: anthropicCodec,
  defaultBaseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com",
  requiredSettings: ["region"],
  baseUrlFor: (settings) => `https://bedrock-runtime.${settings.region ?? "us-east-1"}.amazonaws.com`,
  defaultModels: () => ["anthropic.*", "*.anthropic.*"],
  connect: (c) => new BedrockLink(c),
  target(r, baseUrl, _secret, link) {
    if (r.dialect !== "anthropic" || r.op !== "messages" || !(link instanceof BedrockLink)) return null;
    const { origin, prefix } = splitBaseUrl(baseUrl);
    const streamed = r.body?.stream === true;
    const converse = link.converse || !isAnthropicModel(r.model);
    const op = converse ? (streamed ? "converse-stream" : "converse") : streamed ? "invoke-with-response-stream" : "invoke";
    const framing: Framing | undefined = converse ? (streamed ? "converse-stream" : "converse-json") : streamed ? "aws-eventstream" : undefined;
    return {
      origin, path: `${prefix}/model/${encodeURIComponent(r.model)}/${op}`, dialect: "anthropic", body: converse ? converseBody(r) : invokeBody(r),
      errors: "aws", clientHeaders: BEDROCK_CLIENT_HEADERS,
      auth: link.bearer ? [["authorization", `Bearer ${link.bearer}`]] : [],
      signer: link.signer ?? undefined, framing,
    };
  },
};
