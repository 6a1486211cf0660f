import { splitBaseUrl, type Provider, type UpstreamRequest } from "../types.js";
import { VertexToken } from "./token.js";

export { VertexToken, parseServiceAccount } from "./token.js";

const GEMINI_METHODS = { generate: "generateContent", stream_generate: "streamGenerateContent", gemini_count_tokens: "countTokens" } as const;

/** Claude on Vertex keeps anthropic-beta as a header (its version is in the body); Gemini takes none of the caller's. */
const VERTEX_CLAUDE_HEADERS = ["anthropic-beta", "content-type", "accept"] as const;
const VERTEX_GEMINI_HEADERS = ["content-type", "accept"] as const;

function hostFor(region: string): string {
  if (region === "global") return "https://aiplatform.googleapis.com";
  if (region === "us" || region === "eu") return `https://aiplatform.${region}.rep.googleapis.com`;
  return `https://${region}-aiplatform.googleapis.com`;
}

/** Claude on Vertex: the Messages body without `model` (it is in the URL), with Vertex's version; `stream` stays. */
function rawPredictBody(r: UpstreamRequest): Buffer {
  const out: Record<string, unknown> = { anthropic_version: "vertex-2023-10-16" };
  for (const [k, v] of Object.entries(r.body ?? {})) if (k !== "model") out[k] = v;
  return Buffer.from(JSON.stringify(out));
}

/** Gemini on Vertex requires a role on every content, where the Developer API defaults it to "user". */
function geminiBody(r: UpstreamRequest): Buffer | undefined {
  const contents = r.body?.contents;
  if (!Array.isArray(contents) || contents.every((c) => typeof (c as { role?: unknown })?.role === "string")) return undefined;
  const fixed = contents.map((c) => (c && typeof c === "object" && typeof (c as { role?: unknown }).role !== "string" ? { ...(c as object), role: "user" } : c));
  return Buffer.from(JSON.stringify({ ...r.body, contents: fixed }));
}

/**
 * Google Vertex AI: Gemini (publishers/google, generateContent) and Claude (publishers/anthropic,
 * rawPredict / streamRawPredict), by project and region from the credential's settings, with a
 * bearer token minted from its service-account key off the request path.
 */
export const vertex: Provider = {
  id: "vertex",
  dialects: ["anthropic", "gemini"],
  // Two native dialects, one per publisher: a caller of a third is not translated for Vertex yet.
  codec: null,
  defaultBaseUrl: "https://us-central1-aiplatform.googleapis.com",
  requiredSettings: ["region"],
  baseUrlFor: (settings) => hostFor(settings.region ?? "us-central1"),
  defaultModels: () => null,
  connect: (c) => new VertexToken(c),
  target(r, baseUrl, _secret, link) {
    if (!(link instanceof VertexToken)) return null;
    const token = link.current();
    const project = link.settings.project ?? link.projectId;
    if (!project) return null;
    const region = link.settings.region ?? "us-central1";
    const { origin, prefix } = splitBaseUrl(baseUrl);
    const base = `${prefix}/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(region)}/publishers`;
    const auth: [string, string][] = [["authorization", `Bearer ${token ?? ""}`]];
    if (r.dialect === "anthropic" && r.op === "messages") {
      const method = r.body?.stream === true ? "streamRawPredict" : "rawPredict";
      return { origin, path: `${base}/anthropic/models/${encodeURIComponent(r.model)}:${method}`, auth, dialect: "anthropic", body: rawPredictBody(r), errors: "google", clientHeaders: VERTEX_CLAUDE_HEADERS };
    }
    if (r.dialect === "gemini" && (r.op === "generate" || r.op === "stream_generate" || r.op === "gemini_count_tokens")) {
      const sse = r.op === "stream_generate" && r.sse ? "?alt=sse" : "";
      return { origin, path: `${base}/google/models/${encodeURIComponent(r.model)}:${GEMINI_METHODS[r.op]}${sse}`, auth, dialect: "gemini", body: geminiBody(r), clientHeaders: VERTEX_GEMINI_HEADERS };
    }
    return null;
  },
};
