import type { Dispatcher } from "undici";
import type { CodecDialect, CredentialLink, Deployment, Operation, UpstreamTarget, WireDialect } from "../providers/index.js";
import type { CatalogModel, ModelPrice } from "../store/index.js";
import type { AdmissionRequest } from "./admission.js";

/*
 * The seam between the handler (which decides) and the exchange (which forwards): plain data
 * types only, so neither imports the other's module to name them.
 */

/**
 * One upstream to try: where, with which credential (a deployment of the model), and the request
 * in its dialect. A deployment that needs a translation the first does not is translated only
 * when its turn comes (`later`; `target` and `pool` are null until then).
 */
export interface Candidate {
  target: UpstreamTarget | null;
  /** The upstream's connection pool, or a dispatcher in front of it (see embed-split.ts). */
  pool: Pick<Dispatcher, "dispatch"> | null;
  /** The bytes sent when the target brings none of its own: the caller's, or their translation. */
  payload: Buffer;
  /** Set when this deployment's dialect differs from the caller's; null on the pass-through path. */
  translation: Translation | null;
  /** Remove the usage chunk injected with stream_options.include_usage. */
  strip: boolean;
  /** What its translation changed in the request (the `latchkey-notice` header). */
  notice: string | null;
  /** Not yet translated: the deployment and the dialect it takes the request in. */
  later: { deployment: Deployment; dialect: CodecDialect } | null;
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
  orgId: string;
  workspaceId: string;
  keyId: string;
  keyName: string;
  model: CatalogModel;
  /** The model as the caller named it (translated answers carry it). */
  modelName: string;
  provider: string;
  inputTokenBound: number;
  admission: AdmissionRequest;
  ticket: unknown;
  /** The key's slot in the first upstream's fair share ("origin key"), released when the request is recorded. */
  fairSlot: string | null;
  /** Headers of ours for the answer (rate limits), whatever it turns out to be. */
  headers: Record<string, string> | undefined;
  /** What the gateway changed in the request (in the first deployment's form), told in `latchkey-notice` and the access log. */
  notice: string | null;
  /** The reservation's entry in the usage journal (its `reserve` answer), which the request's event closes. */
  journal: number;
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
