import { randomBytes } from "node:crypto";
import type { Tracer } from "@opentelemetry/api";
import type { FinishedRequest } from "../store/index.js";

/** Where spans go; unset endpoints leave tracing off. Read from the standard OTEL_* variables by the config loader. */
export interface TracingSettings {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to <it>/v1/traces. */
  endpoint?: string | undefined;
  /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full URL for spans, when it is not <endpoint>/v1/traces. */
  tracesEndpoint?: string | undefined;
  /** OTEL_TRACES_EXPORTER: "none" turns tracing off even with an endpoint. */
  exporter?: "otlp" | "none" | undefined;
  /** OTEL_SDK_DISABLED: true turns tracing off whatever else is set. */
  disabled?: boolean | undefined;
  serviceName: string;
}

/** A finished request as a span reads it: the usage event's own fields (the gateway's usage event and detail satisfy it). */
export type SpanSource = FinishedRequest;
export interface SpanDetail {
  attempts: number;
  upstreamStatus: number | null;
  deployment: string | null;
  refusal: string | null;
  traceparent: string | undefined;
  tracestate: string | undefined;
  /** The ids the gateway's span takes, when they were chosen up front to be sent upstream. */
  trace?: UpstreamTrace | null | undefined;
}

/** The gateway span's ids, chosen when the request starts, and the traceparent that names it as the upstream call's parent. */
export interface UpstreamTrace { traceId: string; spanId: string; traceparent: string }

/** W3C trace context's header, as the OpenTelemetry propagator reads it (version ff, all-zero ids and extra fields on version 00 are invalid). */
const TRACEPARENT = /^\s?((?!ff)[\da-f]{2})-((?![0]{32})[\da-f]{32})-((?![0]{16})[\da-f]{16})-([\da-f]{2})(-.*)?\s?$/;

/**
 * The trace context for the upstream request: the caller's trace continued (or a new one), with
 * the gateway's own span as the parent, so the provider's side of a call is found under the gateway's span.
 */
export function upstreamTrace(incoming: string | undefined): UpstreamTrace {
  const m = incoming === undefined ? null : TRACEPARENT.exec(incoming);
  const valid = m !== null && !(m[1] === "00" && m[5]);
  const ids = randomBytes(24).toString("hex");
  const traceId = valid ? m[2]! : ids.slice(0, 32);
  const spanId = ids.slice(32);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-${valid ? m[4]! : "01"}` };
}

/** Hands the SDK the ids chosen up front for the next span, and random ones otherwise. */
class ChosenIds {
  next: UpstreamTrace | null = null;
  generateTraceId(): string {
    return this.next?.traceId ?? randomBytes(16).toString("hex");
  }
  generateSpanId(): string {
    return this.next?.spanId ?? randomBytes(8).toString("hex");
  }
}

export interface RequestTracer {
  /** Records a finished request as a span, its start and end taken from the request's own times. */
  record(e: SpanSource, d: SpanDetail): void;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** GenAI semantic conventions: the operation name for each gateway operation. */
const OPERATIONS: Record<string, string> = {
  messages: "chat", chat: "chat", responses: "chat", generate: "generate_content", stream_generate: "generate_content",
  embeddings: "embeddings", embed: "embeddings", count_tokens: "count_tokens",
};
/** GenAI semantic conventions: gen_ai.provider.name values. */
const PROVIDERS: Record<string, string> = { anthropic: "anthropic", openai: "openai", gemini: "gcp.gemini" };

export function tracingEnabled(s: TracingSettings): boolean {
  return s.disabled !== true && s.exporter !== "none" && (s.endpoint !== undefined || s.tracesEndpoint !== undefined);
}

/**
 * An OTLP/HTTP span exporter when tracing is configured, else null. The OpenTelemetry packages are
 * loaded only then, so a server without tracing neither loads them nor does any work per request.
 */
export async function createRequestTracer(s: TracingSettings, version: string): Promise<RequestTracer | null> {
  if (!tracingEnabled(s)) return null;
  const [api, core, sdk, resources, otlp] = await Promise.all([
    import("@opentelemetry/api"), import("@opentelemetry/core"), import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/resources"), import("@opentelemetry/exporter-trace-otlp-http"),
  ]);
  const url = s.tracesEndpoint ?? `${s.endpoint!.replace(/\/+$/, "")}/v1/traces`;
  const ids = new ChosenIds();
  const provider = new sdk.TracerProvider({
    idGenerator: ids,
    resource: resources.resourceFromAttributes({ "service.name": s.serviceName, "service.version": version }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter: new otlp.OTLPTraceExporter({ url }), scheduledDelayMillis: 1000 })],
  });
  const tracer: Tracer = provider.getTracer("latchkey", version);
  const propagator = new core.W3CTraceContextPropagator();
  return {
    record(e, d) {
      const carrier = { traceparent: d.traceparent, tracestate: d.tracestate };
      const parent = d.traceparent ? propagator.extract(api.ROOT_CONTEXT, carrier, api.defaultTextMapGetter) : api.ROOT_CONTEXT;
      const operation = OPERATIONS[e.endpoint] ?? e.endpoint;
      // startSpan is synchronous: the ids set here are the ones it takes.
      ids.next = d.trace ?? null;
      const span = tracer.startSpan(`${operation} ${e.model}`, { kind: api.SpanKind.SERVER, startTime: e.at, attributes: {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": PROVIDERS[e.provider] ?? e.provider,
        "gen_ai.request.model": e.model,
        "gen_ai.usage.input_tokens": e.inputTokens + e.cacheReadTokens + e.cacheWriteTokens,
        "gen_ai.usage.output_tokens": e.outputTokens,
        "gen_ai.usage.cache_read.input_tokens": e.cacheReadTokens,
        "gen_ai.usage.cache_creation.input_tokens": e.cacheWriteTokens,
        "http.response.status_code": e.status,
        "latchkey.request_id": e.id,
        "latchkey.streamed": e.streamed,
        "latchkey.attempts": d.attempts,
        "latchkey.cost_usd": e.costNano / 1e9,
        ...(e.keyId ? { "latchkey.key_id": e.keyId, "latchkey.workspace_id": e.workspaceId ?? "" } : {}),
        ...(d.deployment ? { "latchkey.deployment": d.deployment } : {}),
        ...(d.upstreamStatus !== null ? { "latchkey.upstream_status": d.upstreamStatus } : {}),
        ...(e.ttfbMs !== null ? { "latchkey.time_to_first_byte_ms": e.ttfbMs } : {}),
      } }, parent);
      ids.next = null;
      if (e.status >= 400 || e.errorCode) {
        span.setAttribute("error.type", d.refusal ?? e.errorCode ?? String(e.status));
        span.setStatus({ code: api.SpanStatusCode.ERROR });
      }
      span.end(e.at + e.latencyMs);
    },
    shutdown: () => provider.shutdown(),
  };
}
