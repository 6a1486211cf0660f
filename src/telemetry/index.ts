export { OperatorMetrics, type MetricSources } from "./metrics.js";
export { createRequestTracer, tracingEnabled, upstreamTrace, type RequestTracer, type SpanDetail, type SpanSource, type TracingSettings, type UpstreamTrace } from "./tracing.js";
