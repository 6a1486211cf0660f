import type { GatewayScope } from "../keys/index.js";
import type { Operation, WireDialect } from "../providers/index.js";
import { matchPassThrough, type PassThrough } from "./passthrough-routes.js";

/** A gateway endpoint: what it does, the dialect it speaks, the scope it needs. */
export interface Route {
  op: Operation;
  dialect: WireDialect;
  scope: GatewayScope;
  /** The model named by the path (Gemini, and GET /v1/models/{id}). */
  pathModel: string | null;
  /** Set for endpoints forwarded as they are (batches, files, stored responses, cached contents). */
  pass?: PassThrough;
}

/** Fixed routes are shared, frozen objects: matching one allocates nothing. */
const POST_ROUTES: ReadonlyMap<string, Readonly<Route>> = new Map(([
  ["/v1/messages", { op: "messages", dialect: "anthropic", scope: "messages", pathModel: null }],
  ["/v1/messages/count_tokens", { op: "count_tokens", dialect: "anthropic", scope: "count_tokens", pathModel: null }],
  ["/v1/chat/completions", { op: "chat", dialect: "openai", scope: "chat", pathModel: null }],
  ["/v1/embeddings", { op: "embeddings", dialect: "openai", scope: "embeddings", pathModel: null }],
  ["/v1/responses", { op: "responses", dialect: "openai", scope: "responses", pathModel: null }],
  ["/v1/completions", { op: "completions", dialect: "openai", scope: "chat", pathModel: null }],
  ["/v1/moderations", { op: "moderations", dialect: "openai", scope: "moderations", pathModel: null }],
] as const).map(([path, r]) => [path, Object.freeze(r)]));

const GEMINI_METHODS: Record<string, Pick<Route, "op" | "scope">> = {
  generateContent: { op: "generate", scope: "gemini" },
  streamGenerateContent: { op: "stream_generate", scope: "gemini" },
  countTokens: { op: "gemini_count_tokens", scope: "count_tokens" },
  embedContent: { op: "embed_content", scope: "embeddings" },
  batchEmbedContents: { op: "batch_embed_contents", scope: "embeddings" },
};

// Gemini API v1 and v1beta both: the newest @google/genai calls v1, older ones v1beta.
const GEMINI_CALL = /^\/v1(?:beta)?\/models\/([^/:]+):([A-Za-z]+)$/;

/**
 * Who is calling, from its headers, for paths several dialects share (GET /v1/models):
 * `x-goog-api-key` or `?key=` is Google's SDKs, `anthropic-version` or `x-api-key` Anthropic's,
 * anything else OpenAI's.
 */
export function callerDialect(geminiCaller: boolean, anthropicHeaders: boolean): WireDialect {
  return geminiCaller ? "gemini" : anthropicHeaders ? "anthropic" : "openai";
}

/** The route for a method and path; "method" when the path exists with another method; null when unknown. */
/** A path segment decoded, or null when its percent-escapes are malformed (decodeURIComponent throws). */
function decodeSegment(s: string): string | null {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** The model a path names, or "malformed" (answered 400, where a thrown URIError was a 500). */
function pathRoute<T extends object>(route: T, segment: string): (T & { pathModel: string }) | "malformed" {
  const model = decodeSegment(segment);
  return model === null ? "malformed" : { ...route, pathModel: model };
}

export function matchRoute(method: string, path: string, anthropicHeaders: boolean, geminiCaller = false): Readonly<Route> | "method" | "malformed" | null {
  if (method === "POST") {
    const r = POST_ROUTES.get(path);
    if (r) return r;
    const g = GEMINI_CALL.exec(path);
    // Own keys only: "toString" or "constructor" after the colon is no method of ours.
    const m = g && Object.hasOwn(GEMINI_METHODS, g[2]!) ? GEMINI_METHODS[g[2]!] : undefined;
    if (g && m) return pathRoute({ ...m, dialect: "gemini" as const }, g[1]!);
  } else if (method === "GET") {
    const shared = callerDialect(geminiCaller, anthropicHeaders);
    if (path === "/v1/models") return { op: "models", dialect: shared, scope: "models", pathModel: null };
    if (path.startsWith("/v1/models/")) return pathRoute({ op: "models" as const, dialect: shared, scope: "models" as const }, path.slice(11));
    if (path === "/v1beta/models") return { op: "models", dialect: "gemini", scope: "models", pathModel: null };
    // Gemini model ids have no colon (one is an action) and no slash.
    if (MODEL_GET_PATH.test(path)) return pathRoute({ op: "models" as const, dialect: "gemini" as const, scope: "models" as const }, path.slice(15));
  }
  const passing = matchPassThrough(method, path);
  if (passing === "method") return "method";
  if (passing) return { op: "passthrough", dialect: passing.dialect, scope: passing.pass.scope, pathModel: null, pass: passing.pass };
  if (POST_ROUTES.has(path) || (method !== "GET" && MODEL_GET_PATH.test(path))) return "method";
  if (method !== "POST") {
    const g = GEMINI_CALL.exec(path);
    if (g && Object.hasOwn(GEMINI_METHODS, g[2]!)) return "method";
  }
  return null;
}

/** A model list or one model (no action after a colon, no deeper path): what GET answers. */
const MODEL_GET_PATH = /^\/v1(?:beta)?\/models(?:\/[^/:]+)?$/;

/** The dialect to answer a request in before its route is known. */
export function guessDialect(path: string, anthropicHeaders: boolean, geminiCaller = false): WireDialect {
  if (path.startsWith("/v1beta/") || GEMINI_CALL.test(path)) return "gemini";
  if (path.startsWith("/v1/messages")) return "anthropic";
  return callerDialect(geminiCaller, anthropicHeaders);
}
