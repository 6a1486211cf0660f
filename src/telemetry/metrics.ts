import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

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

/**
 * A counter's per-request increments, kept per label set in plain cells found through nested maps
 * (one per label, in order) and handed to prom-client when /metrics is scraped: prom-client
 * validates and hashes the labels on every `inc`, a child's included, and the request path should
 * not pay that nor build a label object or a joined key.
 */
class CounterCells {
  private readonly root = new Map<string, Map<string, Map<string, CounterCell>>>();
  /** In the order first seen, which is prom-client's order of series. */
  private readonly cells: CounterCell[] = [];
  private readonly counter: Counter;

  constructor(registers: Registry[], name: string, private readonly names: readonly string[], help: string) {
    // prom-client calls collect before it reads the counter, so a scrape sees every increment.
    this.counter = new Counter({ name, help, labelNames: names, registers, collect: () => this.flush() });
  }

  /** The cell of one label set, its values in the order of the label names (the third "" for two labels). */
  cell(a: string, b: string, c = ""): CounterCell {
    let byB = this.root.get(a);
    if (!byB) this.root.set(a, (byB = new Map()));
    let byC = byB.get(b);
    if (!byC) byB.set(b, (byC = new Map()));
    let cell = byC.get(c);
    if (!cell) {
      const values = [a, b, c];
      const labels: Record<string, string> = {};
      this.names.forEach((n, i) => (labels[n] = values[i]!));
      byC.set(c, (cell = { labels, pending: 0 }));
      this.cells.push(cell);
    }
    return cell;
  }

  private flush(): void {
    for (const c of this.cells) {
      if (c.pending === 0) continue;
      this.counter.inc(c.labels, c.pending);
      c.pending = 0;
    }
  }
}

interface CounterCell {
  labels: Record<string, string>;
  /** Increments not yet handed to prom-client. */
  pending: number;
}

/** One label set's observations: what prom-client keeps for it (bucket counts, sum, count), in plain fields. */
interface HistogramCell {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative), one more than the bounds for those above the last. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram that prom-client's registry renders like its own (same series, labels and order:
 * checked against prom-client's Histogram in metrics.test.ts), observed with no label hashing: its
 * cells are found by the caller, once per provider and model. prom-client's Histogram validates
 * and hashes labels and searches its buckets on every observe, a child's included.
 */
class CellHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private cells: HistogramCell[] = [];
  constructor(readonly name: string, readonly help: string, private readonly bounds: readonly number[], registry: Registry) {
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  cell(labels: Record<string, string>): HistogramCell {
    const made = { labels, buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
    this.cells.push(made);
    return made;
  }

  observe(c: HistogramCell, value: number): void {
    if (!Number.isFinite(value)) return; // prom-client would throw; a metric never fails a request
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    c.buckets[i]!++;
    c.sum += value;
    c.count += 1;
  }

  reset(): void {
    for (const c of this.cells) {
      c.buckets.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }

  /** Series in prom-client's shape: cumulative buckets by `le`, then +Inf, sum and count, per label set. */
  getForPromString(): { name: string; help: string; type: string; aggregator: string; values: HistogramValue[] } {
    const values: HistogramValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.cells) {
      if (c.count === 0) continue;
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.buckets[i]!;
        values.push({ labels: { le: this.bounds[i]! }, sharedLabels: c.labels, value: acc, metricName: bucket });
      }
      values.push(
        { labels: { le: "+Inf" }, sharedLabels: c.labels, value: c.count, metricName: bucket },
        { labels: {}, sharedLabels: c.labels, value: c.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: c.labels, value: c.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The JSON form (getMetricsAsJSON): each value's labels include its label set. */
  get(): ReturnType<CellHistogram["getForPromString"]> {
    const data = this.getForPromString();
    data.values = data.values.map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...v.labels, ...sharedLabels } }));
    return data;
  }
}

interface HistogramValue {
  labels: Record<string, string | number>;
  /** The label set (prom-client renders it after `le`); absent in the JSON form, where `labels` has it. */
  sharedLabels?: Record<string, string>;
  value: number;
  metricName: string;
}

/** The two timing histograms' cells of one provider and model. */
interface TimingCells {
  duration: HistogramCell;
  ttfb: HistogramCell | null;
}

/**
 * The series an operator reads (README, Operating). Labels are bounded vocabularies (outcome,
 * reason, provider, the catalog model id, credential ids), never a key or anything a caller typed
 * besides a model the catalog resolved. Gauges carry no `_total`.
 */
export class OperatorMetrics {
  private readonly outcomes: CounterCells;
  private readonly upstreamErrors: CounterCells;
  private readonly retries: CounterCells;
  private readonly ttfb: CellHistogram;
  private readonly duration: CellHistogram;
  /** provider → model → the timing histograms' cells. */
  private readonly timings = new Map<string, Map<string, TimingCells>>();
  private readonly webhookFailures: Counter;
  private readonly managementRequests: CounterCells;

  constructor(readonly registry: Registry, build: { version: string }, sources: MetricSources = {}) {
    const registers = [registry];
    collectDefaultMetrics({ register: registry, prefix: "latchkey_" });
    renameTotalGauges(registry);
    new Gauge({ name: "latchkey_build_info", help: "Always 1; the labels say which build and runtime answer", labelNames: ["version", "node_version"], registers })
      .set({ version: build.version, node_version: process.versions.node }, 1);
    this.outcomes = new CounterCells(registers, "latchkey_gateway_outcomes_total", ["outcome", "reason", "provider"],
      "Gateway requests by outcome (served, refused, upstream_error, client_closed, failed) and reason (which limit or check refused it, or the upstream error's class)");
    this.upstreamErrors = new CounterCells(registers, "latchkey_upstream_errors_total", ["provider", "credential_id", "class"],
      "Failed upstream attempts per credential, retried or not, by class (timeout, connect, reset, status_429, status_5xx, stream_cut)");
    this.retries = new CounterCells(registers, "latchkey_upstream_retries_total", ["provider", "credential_id"],
      "Upstream attempts that were retried, by the credential that failed");
    this.ttfb = new CellHistogram("latchkey_gateway_time_to_first_byte_seconds", "From the request's arrival to the upstream's first body byte", SECONDS, registry);
    this.duration = new CellHistogram("latchkey_gateway_request_duration_seconds", "From the request's arrival to its last byte, for requests that reached an upstream", SECONDS, registry);
    this.webhookFailures = new Counter({ name: "latchkey_webhook_delivery_failures_total", help: "Webhook delivery attempts that failed", registers });
    this.managementRequests = new CounterCells(registers, "latchkey_management_requests_total", ["method", "route", "status"],
      "Management API, console and health requests by route pattern and status");
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
    this.outcomes.cell(outcome, reason, provider).pending++;
  }

  timing(provider: string, model: string, durationMs: number, ttfbMs: number | null): void {
    let byModel = this.timings.get(provider);
    if (!byModel) this.timings.set(provider, (byModel = new Map()));
    let cells = byModel.get(model);
    if (!cells) byModel.set(model, (cells = { duration: this.duration.cell({ provider, model }), ttfb: null }));
    this.duration.observe(cells.duration, durationMs / 1000);
    if (ttfbMs === null) return;
    // Made at its first observation, as prom-client orders series by their first.
    cells.ttfb ??= this.ttfb.cell({ provider, model });
    this.ttfb.observe(cells.ttfb, ttfbMs / 1000);
  }

  upstreamError(provider: string, credentialId: string, cls: string, retried: boolean): void {
    this.upstreamErrors.cell(provider, credentialId, cls).pending++;
    if (retried) this.retries.cell(provider, credentialId).pending++;
  }

  webhookFailed(): void {
    this.webhookFailures.inc();
  }

  management(method: string, route: string, status: number): void {
    this.managementRequests.cell(method, route, String(status)).pending++;
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
