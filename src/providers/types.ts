import type { Dispatcher } from "undici";
import type { DialectCodec } from "./dialects/codec.js";

/** The wire dialect an endpoint speaks. */
export type WireDialect = "anthropic" | "openai" | "gemini";

/** Every gateway operation. */
export type Operation =
  | "messages" | "count_tokens"
  | "chat" | "embeddings" | "responses" | "completions" | "moderations"
  | "generate" | "stream_generate" | "gemini_count_tokens" | "embed_content" | "batch_embed_contents"
  | "models" | "passthrough";

export const PROVIDER_IDS = ["anthropic", "openai", "gemini", "openai-compatible", "azure-openai", "bedrock", "vertex", "simulator"] as const;
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
  /** Bytes to send instead of the caller's (Bedrock and Vertex move the model into the URL). */
  body?: Buffer | undefined;
  /** Signs each attempt just before it is sent (SigV4); one per credential, not per request. */
  signer?: RequestSigner | undefined;
  /**
   * How the upstream's answer is rewritten into `dialect` before it is metered or translated: AWS
   * event-stream framing (InvokeModel streams), or Converse's own schema, JSON or streamed.
   */
  framing?: Framing | undefined;
  /** The shape of the upstream's error bodies when they are not the caller's dialect's own. */
  errors?: "aws" | "google" | undefined;
}

export type Framing = "aws-eventstream" | "converse-json" | "converse-stream";

/** Rewrites an upstream answer's bytes as they arrive (see `UpstreamTarget.framing`). One per answer, plain fields. */
export interface Reframer {
  push(chunk: Buffer): Buffer;
  /** The closing bytes when the upstream ends (an in-band error when the answer was cut or unreadable). */
  end(): Buffer;
  /** Set once the bytes could not be read. */
  readonly failed: string | null;
  /** The content type of what it writes. */
  readonly contentType: string;
}

/** Signs a request in place: adds its headers to `headers`. */
export interface RequestSigner {
  sign(origin: string, path: string, headers: Record<string, string>, body: Buffer): Promise<void>;
}

/** A credential as a provider sees it: decrypted, with its settings. */
export interface CredentialInfo {
  id: string;
  baseUrl: string | null;
  secret: string;
  settings: Record<string, string>;
  /**
   * How its link's own calls (a token endpoint, an authority host) connect: the outbound address
   * policy's agent, so that a name resolving inward at connect time is refused there as the
   * upstream calls are. Without it (a unit test), the runtime's default.
   */
  dispatcher?: Dispatcher;
}

/**
 * What a provider keeps per credential (a signer, an access token minted and refreshed off the
 * request path). Made once per credential and reused by every request.
 */
export interface CredentialLink {
  /** null when requests can go now; else a promise that settles when they can (the first token). */
  ready(): Promise<void> | null;
  /** Something the upstream said about the credential (401/403): mint again before the next use. */
  refresh?(): void;
  close(): void;
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
  /** The parsed request body, for providers that must rewrite it. */
  body?: Record<string, unknown> | undefined;
  /** The caller's anthropic-beta header (Bedrock wants it in the body). */
  beta?: string | undefined;
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
  /** `link` is what `connect` made for this credential, for providers that have one. */
  target(r: UpstreamRequest, baseUrl: string, secret: string, link?: CredentialLink): UpstreamTarget | null;
  /** The generation dialect requests from other dialects are translated into; null when none are. */
  codec: DialectCodec | null;
  /** Per-credential state (signer, tokens); providers that need none leave it out. */
  connect?(c: CredentialInfo): CredentialLink;
  /** Settings a credential of this provider must carry (region, project…). */
  requiredSettings?: readonly string[];
  /** Models a credential serves when it declares none: patterns (a preset's families). */
  defaultModels?(settings: Record<string, string>): readonly string[] | null;
  /** The base URL a credential uses when it gives none (built from its settings). */
  baseUrlFor?(settings: Record<string, string>): string;
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
