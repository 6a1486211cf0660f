import type { CodecDialect } from "./dialects/canonical.js";
import type { Operation, Provider, UpstreamRequest, WireDialect } from "./types.js";

/** The generation dialect a caller speaks on an operation; null for operations that are never translated. */
export function codecDialectOf(op: Operation): CodecDialect | null {
  switch (op) {
    case "messages": return "anthropic";
    case "chat": return "chat";
    case "responses": return "responses";
    case "generate":
    case "stream_generate": return "gemini";
    default: return null;
  }
}

const NATIVE: Record<CodecDialect, { op: Operation; dialect: WireDialect }> = {
  anthropic: { op: "messages", dialect: "anthropic" },
  chat: { op: "chat", dialect: "openai" },
  responses: { op: "responses", dialect: "openai" },
  gemini: { op: "generate", dialect: "gemini" },
};

/** The upstream request in a provider's own dialect for a translated call (Gemini streams as SSE). */
export function nativeRequest(dialect: CodecDialect, r: UpstreamRequest, streamed: boolean): UpstreamRequest {
  const n = NATIVE[dialect];
  const op = dialect === "gemini" && streamed ? "stream_generate" : n.op;
  return { op, dialect: n.dialect, model: r.model, inboundPath: r.inboundPath, sse: true };
}

/** The generation APIs a provider can be sent (what a credential's model entry may name as its `dialect`). */
export function codecDialectsOf(p: Provider): CodecDialect[] {
  return (Object.keys(NATIVE) as CodecDialect[]).filter((d) => p.dialects.includes(NATIVE[d].dialect));
}
