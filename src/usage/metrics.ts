import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { UsageEvent } from "../store/index.js";

/**
 * Prometheus metrics, fed from written usage batches rather than from the request path: the
 * gateway pays nothing per request for them. Labels are provider, model and status only — never a
 * key, an id or anything a client sent besides the model name the catalog resolved.
 */
export class UsageMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: "latchkey_gateway_requests_total", help: "Gateway requests by provider, model and HTTP status", labelNames: ["provider", "model", "status"], registers: [this.registry] });
  private readonly tokens = new Counter({ name: "latchkey_gateway_tokens_total", help: "Tokens by provider, model and type", labelNames: ["provider", "model", "type"], registers: [this.registry] });
  private readonly cost = new Counter({ name: "latchkey_gateway_cost_usd_total", help: "Priced cost in USD", labelNames: ["provider", "model"], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: "latchkey_gateway_request_duration_seconds", help: "Gateway request duration, first byte to last", labelNames: ["provider"],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "latchkey_" });
  }

  observe(batch: readonly UsageEvent[]): void {
    for (const e of batch) {
      this.requests.inc({ provider: e.provider, model: e.model, status: String(e.status) });
      if (e.inputTokens) this.tokens.inc({ provider: e.provider, model: e.model, type: "input" }, e.inputTokens);
      if (e.outputTokens) this.tokens.inc({ provider: e.provider, model: e.model, type: "output" }, e.outputTokens);
      if (e.cacheWriteTokens) this.tokens.inc({ provider: e.provider, model: e.model, type: "cache_write" }, e.cacheWriteTokens);
      if (e.cacheReadTokens) this.tokens.inc({ provider: e.provider, model: e.model, type: "cache_read" }, e.cacheReadTokens);
      if (e.costNano) this.cost.inc({ provider: e.provider, model: e.model }, e.costNano / 1e9);
      this.latency.observe({ provider: e.provider }, e.latencyMs / 1000);
    }
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
