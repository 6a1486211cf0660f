import type { ErrorCode } from "../../errors/index.js";
import type { CanonicalRequest, CanonicalResponse, CodecDialect, Json, StreamEvent } from "./canonical.js";

/** What an encoder needs beyond the canonical request: the upstream's model name and its output ceiling. */
export interface EncodeContext {
  model: string;
  maxOutputTokens: number;
  /** Whose signatures the target verifies (signatureOrigin); a codec used alone takes its dialect. */
  origin?: string;
}

/** How a caller's stream is written: its model name, and the options it asked for. */
export interface StreamOptions {
  model: string;
  /** Chat Completions: the client asked for the usage chunk. */
  includeUsage: boolean;
  /** Gemini: server-sent events (`alt=sse`) rather than one JSON array. */
  sse: boolean;
  /** Stands in for the upstream's id when it sends none, and names in-band errors. */
  requestId: string;
}

/** Upstream stream bytes → canonical events. One per stream; plain fields, no closures. */
export interface StreamDecoder {
  push(chunk: Uint8Array): StreamEvent[];
  /** Events still held when the upstream ends. */
  end(): StreamEvent[];
  /** True once the upstream sent its terminal event (a stream that ends without it was cut). */
  readonly done: boolean;
}

/** Canonical events → the caller's stream bytes. */
export interface StreamEncoder {
  encode(ev: StreamEvent): string;
  /** The closing bytes: the final events when `clean`, else the caller's in-band error. */
  end(clean: boolean): string;
  readonly contentType: string;
}

/** An upstream error answer, in the terms the caller's error renderer takes. */
export interface DecodedError { code: ErrorCode; message: string }

/** The four codecs of one dialect (translation.md): request and response, both ways, JSON and stream. */
export interface DialectCodec {
  dialect: CodecDialect;
  /** Decodes a caller's body; refuses (TranslationError) what `target` could not honour. */
  decodeRequest(body: Json, target: string): CanonicalRequest;
  encodeRequest(r: CanonicalRequest, ctx: EncodeContext): Json;
  decodeResponse(body: Json): CanonicalResponse;
  encodeResponse(r: CanonicalResponse, model: string): Json;
  newStreamDecoder(): StreamDecoder;
  newStreamEncoder(o: StreamOptions): StreamEncoder;
}

/** The gateway's error code for an upstream status (translation.md §5.2), whatever the dialect. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400: return "invalid_request";
    case 401: return "upstream_error";
    case 402: return "insufficient_credits";
    case 403: return "forbidden";
    case 404: return "model_not_found";
    case 413: return "payload_too_large";
    case 429: return "rate_limited";
    case 503: return "unavailable";
    case 504: return "upstream_timeout";
    case 529: return "overloaded";
    default: return status >= 500 ? "internal" : "invalid_request";
  }
}

/** The message of any provider's error body (all four put it at `error.message`). */
export function errorMessage(body: string): string {
  try {
    const v = JSON.parse(body) as { error?: { message?: unknown } } | { error?: { message?: unknown } }[];
    const e = Array.isArray(v) ? v[0]?.error : v.error;
    if (e && typeof e.message === "string") return e.message;
  } catch {
    // not JSON: a proxy's page
  }
  return "The provider refused the request.";
}
