export { OperatorMetrics, type MetricSources } from "./metrics.js";
export { createRequestTracer, tracingEnabled, type RequestTracer, type SpanDetail, type SpanSource, type TracingSettings } from "./tracing.js";
