import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorCode } from "../errors/index.js";
import type { VerifiedKey } from "../keys/index.js";
import type { GatewayCore } from "./core.js";
import type { RequestDetail } from "./observe.js";
import { msSince, type Plan } from "./plan.js";
import { errorReply, sendReply } from "./respond.js";
import type { Route } from "./routes.js";
import { traceHeader } from "./trace-header.js";

/**
 * Why a request whose key was known got no upstream answer: the usage event's error code. One
 * closed list, beside the limits' own codes (an admission refusal records its ErrorCode).
 */
export type RefusalReason =
  | "client_closed" | "invalid_json" | "too_deep" | "no_model" | "model_not_found" | "model_not_priced" | "dialect_mismatch"
  | "untranslatable" | "no_credential" | "unbounded_input" | "upstream_share" | "store_unavailable" | ErrorCode;

/** What every refusal of one request needs, once its key is known: plain data, made once per request. */
export interface KnownRequest {
  core: GatewayCore;
  req: IncomingMessage;
  res: ServerResponse;
  route: Route;
  entry: VerifiedKey;
  requestId: string;
  /** The request's start (epoch ms) and its `performance.now()`. */
  at: number;
  hr: number;
  /** Its usage record is made: a failure after it records nothing more. */
  recorded: boolean;
}

/** What an admitted request holds before its Exchange: its admission (slots, reservations) and its share of the upstream pool. */
export type HeldLimits = Pick<Plan, "admission" | "ticket" | "fairSlot">;

/** One refusal, by name: what the caller is told, and what the usage record and access log say. */
export interface Refusal {
  /** The wire error: its status and type in the caller's dialect follow from it. */
  code: ErrorCode;
  message: string;
  /** Recorded as the usage event's error code. */
  reason: RefusalReason;
  /** The catalog model and provider, once known ("unknown" before). */
  model?: string | undefined;
  provider?: string | undefined;
  streamed?: boolean;
  param?: string | undefined;
  openaiCode?: string;
  retryAfterSeconds?: number | undefined;
  headers?: Record<string, string> | undefined;
  /** Which limit refused it, for the access log and the outcome series (default: the reason). */
  limit?: string | undefined;
}

/**
 * A refusal once the key is known: recorded (journaled) first, then answered, so a client that saw
 * the answer can count on its record surviving a crash of this process.
 */
export function refuse(k: KnownRequest, r: Refusal, held?: HeldLimits | null): void {
  const reply = errorReply(k.route.dialect, r.code, r.message, k.requestId, { param: r.param, openaiCode: r.openaiCode, retryAfterSeconds: r.retryAfterSeconds, headers: r.headers });
  recordRefusal(k, r, reply.status, held);
  sendReply(k.res, reply);
}

/** A dependency (the store, Redis) failed once the key was known: 503, and a record like every request's. */
export function refuseUnavailable(k: KnownRequest, err: unknown, r: Pick<Refusal, "model" | "provider" | "streamed">): void {
  k.core.logger.warn({ err: (err as Error).message, requestId: k.requestId }, "a dependency failed; the request is refused with 503");
  refuse(k, { ...r, code: "store_unavailable", message: "A service the gateway depends on is unavailable; try again shortly.", reason: "store_unavailable" });
}

/**
 * A request refused or given up after its key was known: no cost, but one record, like every
 * request. What it was admitted with, if anything, is settled at zero and its pool share freed.
 */
export function recordRefusal(k: KnownRequest, r: Pick<Refusal, "reason" | "model" | "provider" | "streamed" | "limit">, status: number, held?: HeldLimits | null): void {
  const key = k.entry.key;
  k.recorded = true;
  k.core.record({
    id: k.requestId, at: k.at, orgId: key.orgId, workspaceId: key.workspaceId, keyId: key.id, provider: r.provider ?? "unknown", model: r.model ?? "unknown",
    endpoint: k.route.op, inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: 0, status, errorCode: r.reason,
    streamed: r.streamed ?? false, aborted: false, latencyMs: msSince(k.hr), ttfbMs: null,
  }, held ?? null, held ? { inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: 0, status, aborted: false } : null, refusalDetail(k.req, key.name, r.limit ?? r.reason));
}

/** A request refused before its key was known: no usage record, but an access line and the outcome series. */
export function observeEarly(core: GatewayCore, req: IncomingMessage, requestId: string, at: number, hr: number, endpoint: string, status: number, reason: string): void {
  core.observer.finished({
    id: requestId, at, provider: "none", model: "unknown", endpoint, inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0,
    costNano: 0, status, errorCode: reason, streamed: false, latencyMs: msSince(hr), ttfbMs: null,
  }, refusalDetail(req, null, reason));
}

function refusalDetail(req: IncomingMessage, keyName: string | null, refusal: string): RequestDetail {
  return { keyName, upstreamStatus: null, attempts: 0, deployment: null, refusal, traceparent: traceHeader(req.headers.traceparent), tracestate: traceHeader(req.headers.tracestate) };
}
