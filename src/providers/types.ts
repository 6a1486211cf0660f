import type { DialectCodec } from "./dialects/codec.js";

/** The wire dialect an endpoint speaks. */
export type WireDialect = "anthropic" | "openai" | "gemini";

/** Every gateway operation. */
export type Operation =
  | "messages" | "count_tokens"
  | "chat" | "embeddings" | "responses" | "completions" | "moderations"
  | "generate" | "stream_generate" | "gemini_count_tokens" | "embed_content" | "batch_embed_contents"
  | "models";

export const PROVIDER_IDS = ["anthropic", "openai", "gemini", "openai-compatible", "simulator"] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** Tokens by kind, as billed: `input` excludes cached tokens, which are counted apart. */
export interface TokenUsage {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

/** How one upstream request is addressed. */
export interface UpstreamTarget {
  /** Origin, e.g. "https://api.anthropic.com" (the pool key). */
  origin: string;
  /** Path and query on that origin. */
  path: string;
  /** Headers that authenticate the request, as name/value pairs (names lower-case). */
  auth: [string, string][];
  /** The dialect the upstream answers in (decides usage extraction). */
  dialect: WireDialect;
  /**
   * Request headers a client may send this provider (lower-case): what its API documents for callers,
   * like anthropic-version. Every other client header is dropped (account, project and billing
   * headers would otherwise ride next to the organization's provider key). Declared in the provider's folder.
   */
  clientHeaders: readonly string[];
}

/** What a request needs from a provider to reach it. */
export interface UpstreamRequest {
  op: Operation;
  /** The dialect the caller speaks. */
  dialect: WireDialect;
  /** The model name as the caller gave it (passed upstream unchanged). */
  model: string;
  /** The inbound path, for providers that mirror it (the simulator). */
  inboundPath: string;
  /** Gemini streams: server-sent events (`alt=sse`) rather than a JSON array. */
  sse: boolean;
}

/**
 * A provider: its transport (base URL, auth headers, endpoint paths) and the codecs of the dialect
 * it speaks natively. Bodies in the provider's own dialect pass through unchanged; usage
 * extraction is by dialect. `target` returns null when the provider cannot serve the operation in
 * the caller's dialect; the gateway then translates through `codec` (when it has one) and asks
 * `target` again for the operation of the provider's own dialect (see `nativeRequest`).
 */
export interface Provider {
  id: ProviderId;
  /** Dialects the provider answers natively. */
  dialects: readonly WireDialect[];
  defaultBaseUrl: string;
  target(r: UpstreamRequest, baseUrl: string, secret: string): UpstreamTarget | null;
  /** The generation dialect requests from other dialects are translated into; null when none are. */
  codec: DialectCodec | null;
}

// Base URLs are few (one per credential) and parsed on every request: each is parsed once.
const splitCache = new Map<string, { origin: string; prefix: string }>();

/** Splits a base URL into origin and path prefix (no trailing slash); the answer is shared, do not change it. */
export function splitBaseUrl(baseUrl: string): { origin: string; prefix: string } {
  let split = splitCache.get(baseUrl);
  if (!split) {
    const u = new URL(baseUrl);
    split = { origin: u.origin, prefix: u.pathname.replace(/\/+$/, "") };
    if (splitCache.size >= 1000) splitCache.clear();
    splitCache.set(baseUrl, split);
  }
  return split;
}
