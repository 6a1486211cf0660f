import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { OperatorMetrics } from "./metrics.js";

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The lines of the named series (HELP, TYPE and samples), in the order rendered. */
function series(text: string, names: string[]): string[] {
  return text.split("\n").filter((l) => names.some((n) => l.startsWith(`${n}{`) || l.startsWith(`${n}_`) || l.startsWith(`${n} `) || l.endsWith(` ${n} counter`) || l.endsWith(` ${n} histogram`) || l.startsWith(`# HELP ${n} `)));
}

describe("operator metrics", () => {
  it("render the request series exactly as prom-client's own counters and histograms would", async () => {
    const ours = new OperatorMetrics(new Registry(), { version: "test" });
    const reference = new Registry();
    const registers = [reference];
    const outcomes = new Counter({
      name: "latchkey_gateway_outcomes_total", registers, labelNames: ["outcome", "reason", "provider"],
      help: "Gateway requests by outcome (served, refused, upstream_error, client_closed, failed) and reason (which limit or check refused it, or the upstream error's class)",
    });
    const errors = new Counter({
      name: "latchkey_upstream_errors_total", registers, labelNames: ["provider", "credential_id", "class"],
      help: "Failed upstream attempts per credential, retried or not, by class (timeout, connect, reset, status_429, status_5xx, stream_cut)",
    });
    const retries = new Counter({ name: "latchkey_upstream_retries_total", registers, labelNames: ["provider", "credential_id"], help: "Upstream attempts that were retried, by the credential that failed" });
    const ttfb = new Histogram({
      name: "latchkey_gateway_time_to_first_byte_seconds", registers, labelNames: ["provider", "model"], buckets: SECONDS,
      help: "From the request's arrival to the upstream's first body byte",
    });
    const duration = new Histogram({
      name: "latchkey_gateway_request_duration_seconds", registers, labelNames: ["provider", "model"], buckets: SECONDS,
      help: "From the request's arrival to its last byte, for requests that reached an upstream",
    });
    const management = new Counter({ name: "latchkey_management_requests_total", registers, labelNames: ["method", "route", "status"], help: "Management API, console and health requests by route pattern and status" });

    const providers = ["anthropic", "openai", "gemini"];
    const models = ["claude-haiku-4-5", "gpt-4o-mini", "m \"quoted\"\\"];
    for (let i = 0; i < 500; i++) {
      const provider = providers[i % 3]!;
      const model = models[Math.floor(i / 3) % 3]!;
      // Durations on and around every bound, and past the last.
      const ms = i % 50 === 0 ? 400_000 : SECONDS[i % SECONDS.length]! * 1000 * (i % 2 ? 1 : 1.0001);
      const ttfbMs = i % 5 === 0 ? null : ms / 3;
      ours.timing(provider, model, ms, ttfbMs);
      duration.observe({ provider, model }, ms / 1000);
      if (ttfbMs !== null) ttfb.observe({ provider, model }, ttfbMs / 1000);
      const [outcome, reason] = i % 4 === 0 ? ["refused", "key_requests_per_minute"] : ["served", "none"];
      ours.outcome(outcome!, reason!, provider);
      outcomes.inc({ outcome, reason, provider });
      if (i % 9 === 0) {
        ours.upstreamError(provider, `cred_${i % 2}`, "status_5xx", i % 2 === 0);
        errors.inc({ provider, credential_id: `cred_${i % 2}`, class: "status_5xx" });
        if (i % 2 === 0) retries.inc({ provider, credential_id: `cred_${i % 2}` });
      }
      ours.management("GET", "/api/v1/keys", 200 + (i % 2));
      management.inc({ method: "GET", route: "/api/v1/keys", status: String(200 + (i % 2)) });
    }
    const names = ["latchkey_gateway_outcomes_total", "latchkey_upstream_errors_total", "latchkey_upstream_retries_total", "latchkey_gateway_time_to_first_byte_seconds", "latchkey_gateway_request_duration_seconds", "latchkey_management_requests_total"];
    const expected = series(await reference.metrics(), names);
    expect(expected.length).toBeGreaterThan(300);
    expect(series((await ours.render()).body, names)).toEqual(expected);
    // A second scrape after more traffic still agrees (increments are handed over at each scrape).
    ours.outcome("served", "none", "anthropic");
    outcomes.inc({ outcome: "served", reason: "none", provider: "anthropic" });
    expect(series((await ours.render()).body, names)).toEqual(series(await reference.metrics(), names));
    expect(await ours.registry.getMetricsAsJSON()).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: "latchkey_gateway_request_duration_seconds", values: (await duration.get()).values.map((v) => expect.objectContaining({ labels: v.labels, value: v.value, metricName: v.metricName })) }),
    ]));
  });
});
