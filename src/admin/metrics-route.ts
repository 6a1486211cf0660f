import { NotFoundError } from "../errors/index.js";
import { defineRoute, type RouteDef } from "./route.js";

declare module "./services.js" {
  interface AdminServices {
    /** Renders the Prometheus text exposition; absent when the server keeps no metrics. */
    metrics?: () => Promise<{ contentType: string; body: string }>;
  }
}

/**
 * Prometheus metrics on the main port, behind the `metrics:read` scope: the series name
 * credentials, models and traffic, which the gateway's callers have no business reading. A
 * scraper sends an admin key with that scope as a bearer token, or scrapes the separate listener
 * LATCHKEY_METRICS_PORT opens (main.ts), which needs no key and is for a network only the
 * scraper reaches.
 */
export const metricsRoute: RouteDef = defineRoute({
  method: "GET", path: "/metrics", tag: "operations", summary: "Prometheus metrics (text exposition format)",
  handler: async ({ services: s }) => {
    if (!s.metrics) throw new NotFoundError("metrics");
    const m = await s.metrics();
    return { body: m.body, contentType: m.contentType };
  },
});
