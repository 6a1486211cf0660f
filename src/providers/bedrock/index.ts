import { anthropicCodec } from "../dialects/anthropic/index.js";
import { splitBaseUrl, type CredentialInfo, type CredentialLink, type Provider, type UpstreamRequest } from "../types.js";
import { BedrockSigner, parseBedrockSecret } from "./signer.js";

export { BedrockSigner, parseBedrockSecret, type AwsKeys } from "./signer.js";
export { EventStreamToSse } from "./eventstream.js";

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

  constructor(c: CredentialInfo) {
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
 * AWS Bedrock, Anthropic models through InvokeModel and InvokeModelWithResponseStream: the model
 * id goes into the path, the stream comes back in AWS event-stream framing (re-framed as SSE),
 * requests are signed with SigV4 per credential (region from its settings) or carry an API key.
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
    const path = `${prefix}/model/${encodeURIComponent(r.model)}/${streamed ? "invoke-with-response-stream" : "invoke"}`;
    return {
      origin, path, dialect: "anthropic", body: invokeBody(r), errors: "aws", clientHeaders: BEDROCK_CLIENT_HEADERS,
      auth: link.bearer ? [["authorization", `Bearer ${link.bearer}`]] : [],
      signer: link.signer ?? undefined,
      framing: streamed ? "aws-eventstream" : undefined,
    };
  },
};
