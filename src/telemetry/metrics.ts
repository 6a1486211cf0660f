import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Readings taken when /metrics is scraped (never on the request path). */
export interface MetricSources {
  /** Usage events waiting in memory, and bytes waiting in the on-disk spool. */
  usageBacklog?: () => { queued: number; spoolBytes: number };
  /** Whether the database answers a probe (the probe bounds its own time). */
  databaseUp?: () => Promise<boolean>;
  /** Whether Redis answers; absent when no Redis is configured. */
  redisUp?: () => boolean;
  /** Whether this node hears other nodes' cache invalidations; absent without Redis. */
  invalidationsSubscribed?: () => boolean;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** One counter child per label set, looked up by a joined string: prom-client hashes labels on every call. */
class CounterChildren {
  private readonly children = new Map<string, { inc(v?: number): void }>();
  constructor(private readonly counter: Counter) {}
  inc(labels: Record<string, string>, key: string, by = 1): void {
    let c = this.children.get(key);
    if (!c) this.children.set(key, (c = this.counter.labels(labels)));
    c.inc(by);
  }
}

class HistogramChildren {
  private readonly children = new Map<string, { observe(v: number): void }>();
  constructor(private readonly histogram: Histogram) {}
  observe(provider: string, model: string, seconds: number): void {
    const key = `${provider}\u0000${model}`;
    let c = this.children.get(key);
    if (!c) this.children.set(key, (c = this.histogram.labels({ provider, model })));
    c.observe(seconds);
  }
}

/**
 * The series an operator reads (README, Operating). Labels are bounded vocabularies (outcome,
 * reason, provider, the catalog model id, credential ids), never a key or anything a caller typed
 * besides a model the catalog resolved. Gauges carry no `_total`.
 */
export class OperatorMetrics {
  private readonly outcomes: CounterChildren;
  private readonly upstreamErrors: CounterChildren;
  private readonly retries: CounterChildren;
  private readonly ttfb: HistogramChildren;
  private readonly duration: HistogramChildren;
  private readonly webhookFailures: Counter;
  private readonly managementRequests: CounterChildren;

  constructor(readonly registry: Registry, build: { version: string }, sources: MetricSources = {}) {
    const registers = [registry];
    collectDefaultMetrics({ register: registry, prefix: "latchkey_" });
    renameTotalGauges(registry);
    new Gauge({ name: "latchkey_build_info", help: "Always 1; the labels say which build and runtime answer", labelNames: ["version", "node_version"], registers })
      .set({ version: build.version, node_version: process.versions.node }, 1);
    this.outcomes = new CounterChildren(new Counter({
      name: "latchkey_gateway_outcomes_total", registers, labelNames: ["outcome", "reason", "provider"],
      help: "Gateway requests by outcome (served, refused, upstream_error, client_closed, failed) and reason (which limit or check refused it, or the upstream error's class)",
    }));
    this.upstreamErrors = new CounterChildren(new Counter({
      name: "latchkey_upstream_errors_total", registers, labelNames: ["provider", "credential_id", "class"],
      help: "Failed upstream attempts per credential, retried or not, by class (timeout, connect, reset, status_429, status_5xx, stream_cut)",
    }));
    this.retries = new CounterChildren(new Counter({
      name: "latchkey_upstream_retries_total", registers, labelNames: ["provider", "credential_id"],
      help: "Upstream attempts that were retried, by the credential that failed",
    }));
    this.ttfb = new HistogramChildren(new Histogram({
      name: "latchkey_gateway_time_to_first_byte_seconds", registers, labelNames: ["provider", "model"], buckets: SECONDS,
      help: "From the request's arrival to the upstream's first body byte",
    }));
    this.duration = new HistogramChildren(new Histogram({
      name: "latchkey_gateway_request_duration_seconds", registers, labelNames: ["provider", "model"], buckets: SECONDS,
      help: "From the request's arrival to its last byte, for requests that reached an upstream",
    }));
    this.webhookFailures = new Counter({ name: "latchkey_webhook_delivery_failures_total", help: "Webhook delivery attempts that failed", registers });
    this.managementRequests = new CounterChildren(new Counter({
      name: "latchkey_management_requests_total", registers, labelNames: ["method", "route", "status"],
      help: "Management API, console and health requests by route pattern and status",
    }));
    this.gauges(registers, sources);
  }

  private gauges(registers: Registry[], s: MetricSources): void {
    if (s.usageBacklog) {
      const backlog = s.usageBacklog;
      new Gauge({ name: "latchkey_usage_queue_events", help: "Usage events waiting in memory to be written", registers, collect() { this.set(backlog().queued); } });
      new Gauge({ name: "latchkey_usage_spool_bytes", help: "Bytes of usage waiting in the on-disk spool for the database", registers, collect() { this.set(backlog().spoolBytes); } });
    }
    if (s.databaseUp) {
      const up = s.databaseUp;
      new Gauge({ name: "latchkey_database_up", help: "1 when the database answered a probe at scrape time", registers, async collect() { this.set((await up()) ? 1 : 0); } });
    }
    if (s.redisUp) {
      const up = s.redisUp;
      new Gauge({ name: "latchkey_redis_up", help: "1 while Redis answers the limits, 0 while they follow the failure policy", registers, collect() { this.set(up() ? 1 : 0); } });
    }
    if (s.invalidationsSubscribed) {
      const sub = s.invalidationsSubscribed;
      new Gauge({ name: "latchkey_invalidations_subscribed", help: "1 while this node hears other nodes' cache invalidations", registers, collect() { this.set(sub() ? 1 : 0); } });
    }
  }

  /** One finished gateway request. */
  outcome(outcome: string, reason: string, provider: string): void {
    this.outcomes.inc({ outcome, reason, provider }, `${outcome}\u0000${reason}\u0000${provider}`);
  }

  timing(provider: string, model: string, durationMs: number, ttfbMs: number | null): void {
    this.duration.observe(provider, model, durationMs / 1000);
    if (ttfbMs !== null) this.ttfb.observe(provider, model, ttfbMs / 1000);
  }

  upstreamError(provider: string, credentialId: string, cls: string, retried: boolean): void {
    const key = `${provider}\u0000${credentialId}`;
    this.upstreamErrors.inc({ provider, credential_id: credentialId, class: cls }, `${key}\u0000${cls}`);
    if (retried) this.retries.inc({ provider, credential_id: credentialId }, key);
  }

  webhookFailed(): void {
    this.webhookFailures.inc();
  }

  management(method: string, route: string, status: number): void {
    const s = String(status);
    this.managementRequests.inc({ method, route, status: s }, `${method}\u0000${route}\u0000${s}`);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * prom-client's default series include gauges named like counters (nodejs_active_handles_total,
 * …_resources_total, …_requests_total); Prometheus reserves `_total` for counters. Where the same
 * count is served by type without the suffix (handles, resources) the suffixed sum goes; otherwise
 * it is served under the name without the suffix, read from the original at scrape time.
 */
function renameTotalGauges(registry: Registry): void {
  for (const m of registry.getMetricsAsArray()) {
    const metric = m as unknown as { name: string; help: string; labelNames?: string[]; get(): Promise<{ values: { labels: Record<string, string | number>; value: number }[] }> };
    if (!(m instanceof Gauge) || !metric.name.endsWith("_total")) continue;
    registry.removeSingleMetric(metric.name);
    const name = metric.name.slice(0, -"_total".length);
    if (registry.getSingleMetric(name)) continue;
    new Gauge({
      name, help: metric.help, labelNames: metric.labelNames ?? [], registers: [registry],
      async collect() {
        const { values } = await metric.get();
        this.reset();
        for (const v of values) this.set(v.labels, v.value);
      },
    });
  }
}
