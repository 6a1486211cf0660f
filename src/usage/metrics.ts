import { Counter, type Registry } from "prom-client";
import type { UsageEvent } from "../store/index.js";

interface Sums {
  provider: string;
  model: string;
  status: string;
  requests: number;
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
  costNano: number;
}

/**
 * Token, cost and status counters, fed from written usage batches rather than from the request path: the
 * gateway pays nothing per request for them. Labels are provider, model and status only — never a
 * key, an id or anything a client sent besides the model name the catalog resolved.
 */
export class UsageMetrics {
  private readonly requests: Counter;
  private readonly tokens: Counter;
  private readonly cost: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({ name: "latchkey_gateway_requests_total", help: "Gateway requests by provider, model and HTTP status", labelNames: ["provider", "model", "status"], registers });
    this.tokens = new Counter({ name: "latchkey_gateway_tokens_total", help: "Tokens by provider, model and type", labelNames: ["provider", "model", "type"], registers });
    this.cost = new Counter({ name: "latchkey_gateway_cost_usd_total", help: "Priced cost in USD", labelNames: ["provider", "model"], registers });
  }

  /**
   * Sums the batch per label set first, then touches each counter once per set: prom-client hashes
   * the labels on every call, and a batch holds hundreds of events with a handful of label sets.
   */
  observe(batch: readonly UsageEvent[]): void {
    const groups = new Map<string, Sums>();
    for (const e of batch) {
      const k = `${e.provider}\u0000${e.model}\u0000${e.status}`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { provider: e.provider, model: e.model, status: String(e.status), requests: 0, input: 0, output: 0, cacheWrite: 0, cacheRead: 0, costNano: 0 }));
      g.requests++;
      g.input += e.inputTokens;
      g.output += e.outputTokens;
      g.cacheWrite += e.cacheWriteTokens;
      g.cacheRead += e.cacheReadTokens;
      g.costNano += e.costNano;
    }
    for (const g of groups.values()) {
      const { provider, model } = g;
      this.requests.inc({ provider, model, status: g.status }, g.requests);
      if (g.input) this.tokens.inc({ provider, model, type: "input" }, g.input);
      if (g.output) this.tokens.inc({ provider, model, type: "output" }, g.output);
      if (g.cacheWrite) this.tokens.inc({ provider, model, type: "cache_write" }, g.cacheWrite);
      if (g.cacheRead) this.tokens.inc({ provider, model, type: "cache_read" }, g.cacheRead);
      if (g.costNano) this.cost.inc({ provider, model }, g.costNano / 1e9);
    }
  }
}
