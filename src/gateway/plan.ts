import type { Dispatcher } from "undici";
import type { CodecDialect, CredentialLink, Operation, UpstreamTarget, WireDialect } from "../providers/index.js";
import type { CatalogModel, ModelPrice } from "../store/index.js";
import type { AdmissionRequest } from "./admission.js";

/*
 * The seam between the handler (which decides) and the exchange (which forwards): plain data
 * types only, so neither imports the other's module to name them.
 */

/** One upstream to try: where, with which credential (a deployment of the model). */
export interface Candidate {
  target: UpstreamTarget;
  /** The upstream's connection pool, or a dispatcher in front of it (see embed-split.ts). */
  pool: Pick<Dispatcher, "dispatch">;
  credentialId: string;
  /** The provider that serves it (recorded in usage). */
  provider: string;
  /** The deployment's health key; null for the built-in simulator. */
  healthKey: string | null;
  /** The deployment's own prices, when they differ from the model's. */
  price: ModelPrice | null;
  link: CredentialLink | null;
}

/** Everything decided about a request before it is forwarded (plain data). */
export interface Plan {
  requestId: string;
  dialect: WireDialect;
  op: Operation;
  startedAt: number;
  startedHr: number;
  streamed: boolean;
  /** Gemini's JSON-array stream is metered like a JSON body (its tail), not as SSE. */
  sse: boolean;
  /** Remove the usage chunk injected with stream_options.include_usage. */
  strip: boolean;
  orgId: string;
  workspaceId: string;
  keyId: string;
  keyName: string;
  model: CatalogModel;
  /** The model as the caller named it (translated answers carry it). */
  modelName: string;
  provider: string;
  /** Set when the caller's dialect differs from the provider's; null on the pass-through path. */
  translation: Translation | null;
  inputTokenBound: number;
  admission: AdmissionRequest;
  ticket: unknown;
  /** The key's slot in the first upstream's fair share ("origin key"), released when the request is recorded. */
  fairSlot: string | null;
  /** Headers of ours for the answer (rate limits), whatever it turns out to be. */
  headers: Record<string, string> | undefined;
  /** What the gateway changed in the request, told in `latchkey-notice` and the access log. */
  notice: string | null;
}

/** What the handler decided about a translated call (plain data, on the plan). */
export interface Translation {
  /** The provider's dialect (what the upstream answers in). */
  upstream: CodecDialect;
  /** The caller's dialect (what the answer is written in). */
  caller: CodecDialect;
  /** Chat Completions callers: they asked for the usage chunk. */
  includeUsage: boolean;
  /** OpenAI embeddings answered by Gemini's batchEmbedContents (`base64`: the caller's encoding); null for generation. */
  embed: { base64: boolean } | null;
}

/** Whole milliseconds since a request's `performance.now()` start. */
export function msSince(hr: number): number {
  return Math.round(performance.now() - hr);
}
