import type { Logger, LogFn } from "pino";
import type { FinishedRequest } from "../store/index.js";
import type { OperatorMetrics, RequestTracer, UpstreamTrace } from "../telemetry/index.js";

/** What the usage event does not say about a finished request: plain data, built once per request. */
export interface RequestDetail {
  keyName: string | null;
  /** The status the last upstream answered with (null when none answered). */
  upstreamStatus: number | null;
  /** Upstream attempts made (0 when refused before any). */
  attempts: number;
  /** The deployment (today: the credential) that gave the answer, or was tried last. */
  deployment: string | null;
  /** Which limit or check refused the request, in words of our own (e.g. key_requests_per_minute). */
  refusal: string | null;
  traceparent: string | undefined;
  tracestate: string | undefined;
  /** The gateway span's ids, chosen up front when the upstream request carried them (tracing on). */
  trace?: UpstreamTrace | null;
  /** What the gateway changed in the request and told the caller (the `latchkey-notice` header). */
  notice?: string | null;
}

export type { FinishedRequest } from "../store/index.js";

export type AccessLogLevel = "trace" | "debug" | "info" | "warn" | "off";

/**
 * Everything told about a finished gateway request: one access log line, the outcome and timing
 * series, a trace span. Each part is null when switched off, so a part that is off costs a null
 * check; the line is built from fields already at hand and written by pino's asynchronous
 * destination.
 */
export class RequestObserver {
  private readonly log: LogFn | null;
  private readonly logger: Logger;

  constructor(logger: Logger, level: AccessLogLevel, readonly metrics: OperatorMetrics | null, readonly tracer: RequestTracer | null) {
    this.logger = logger;
    this.log = level !== "off" && logger.isLevelEnabled(level) ? logger[level] : null;
  }

  finished(e: FinishedRequest, d: RequestDetail): void {
    if (this.log) this.log.call(this.logger, accessLine(e, d), "gateway request");
    const m = this.metrics;
    if (m) {
      const [outcome, reason] = outcomeOf(e, d);
      m.outcome(outcome, reason, e.provider);
      if (d.attempts > 0) m.timing(e.provider, e.model, e.latencyMs, e.ttfbMs);
    }
    this.tracer?.record(e, d);
  }

  /** One upstream attempt failed (a retryable status, a timeout, a reset); `retried` when another attempt follows. */
  attemptFailed(provider: string, credentialId: string, cls: string, retried: boolean): void {
    this.metrics?.upstreamError(provider, credentialId, cls, retried);
  }
}

function accessLine(e: FinishedRequest, d: RequestDetail): Record<string, unknown> {
  return {
    kind: "access", requestId: e.id, keyId: e.keyId ?? null, keyName: d.keyName, workspaceId: e.workspaceId ?? null, orgId: e.orgId ?? null,
    endpoint: e.endpoint, model: e.model, provider: e.provider, deployment: d.deployment,
    status: e.status, upstreamStatus: d.upstreamStatus, attempts: d.attempts, refusal: d.refusal, error: e.errorCode,
    latencyMs: e.latencyMs, ttfbMs: e.ttfbMs, streamed: e.streamed,
    inputTokens: e.inputTokens, outputTokens: e.outputTokens, cacheReadTokens: e.cacheReadTokens, cacheWriteTokens: e.cacheWriteTokens,
    costUsd: e.costNano / 1e9, ...(d.notice ? { notice: d.notice } : {}),
  };
}

type Outcome = readonly [outcome: string, reason: string];
/** The outcomes without a variable reason, made once: a served request (nearly every one) allocates no pair. */
const SERVED: Outcome = ["served", "none"];
const CLIENT_CLOSED: Outcome = ["client_closed", "none"];

/** The outcome series' labels: served, refused (by which limit or check), upstream_error (by class), client_closed, failed. */
export function outcomeOf(e: FinishedRequest, d: RequestDetail): Outcome {
  const code = e.errorCode;
  if (code === "client_closed") return CLIENT_CLOSED;
  if (d.attempts === 0) return e.status >= 500 ? ["failed", d.refusal ?? code ?? "internal"] : ["refused", d.refusal ?? code ?? "unknown"];
  if (code === null && e.status < 400) return SERVED;
  return ["upstream_error", upstreamClass(code, d.upstreamStatus)];
}

/** A bounded name for what went wrong upstream: an error code's family or the status class. */
export function upstreamClass(code: string | null, upstreamStatus: number | null): string {
  if (code === "upstream_status" || code === null) {
    if (upstreamStatus === null) return "unknown";
    return upstreamStatus === 429 || upstreamStatus === 529 ? `status_${upstreamStatus}` : `status_${Math.floor(upstreamStatus / 100)}xx`;
  }
  if (code.includes("TIMEOUT")) return "timeout";
  if (code === "ECONNREFUSED" || code === "LATCHKEY_ADDRESS_REFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || (code === "UND_ERR_SOCKET" && upstreamStatus === null)) return "connect";
  if (code === "upstream_died" || code === "UND_ERR_SOCKET" || code === "ECONNRESET") return "stream_cut";
  return "other";
}
