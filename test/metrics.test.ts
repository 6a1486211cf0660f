/**
 * The Prometheus series an operator reads, after a scripted mix of traffic: served, refused by a
 * named limit, failed upstream (by class and credential), retried; timings by provider and model;
 * the usage writer's backlog, the database's health, webhook failures and the build.
 */
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";

const FLAKY_SECRET = "sk-ant-fail-529-METRICS-SECRET-0001";
const STEADY_SECRET = "sk-ant-METRICS-SECRET-STEADY-0002";
const DEAD_SECRET = "sk-METRICS-SECRET-DEAD-0003";

async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

/** The value of one series (exact label set, in prom-client's order), or undefined. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics after a scripted mix", () => {
  let t: TestApp;
  let sim: SimulatorServer;
  let text = "";
  let flaky = "";
  let dead = "";
  let live = "";
  let limited = "";

  const anthropic = (key: string, content = "hi", maxTokens = 20) => fetch(`${t.url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: maxTokens, messages: [{ role: "user", content }] }),
  }).then(async (r) => (await r.arrayBuffer(), r.status));

  beforeAll(async () => {
    t = await startSqliteApp();
    sim = await createSimulatorServer();
    flaky = (await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "flaky", secret: FLAKY_SECRET, base_url: sim.url, weight: 10 })).body.id;
    await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "steady", secret: STEADY_SECRET, base_url: sim.url, weight: 1 });
    dead = (await t.api("POST", "/api/v1/credentials", { provider: "openai", name: "gone", secret: DEAD_SECRET, base_url: `http://127.0.0.1:${await deadPort()}` })).body.id;
    live = (await t.api("POST", "/api/v1/keys", { name: "live", kind: "live" })).body.key;
    limited = (await t.api("POST", "/api/v1/keys", { name: "limited", kind: "test", rate_limits: { requests_per_minute: 2 } })).body.key;
    // A webhook nobody answers, and a spend limit whose threshold alert it will be told of.
    const hook = await t.api("POST", "/api/v1/webhooks", { url: `http://127.0.0.1:${await deadPort()}/hook`, events: ["*"] });
    expect(hook.status).toBe(201);
    const watched = (await t.api("POST", "/api/v1/keys", { name: "watched", kind: "test", spend_limit: { amount_usd: "0.01", period: "day" } })).body.key;

    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push(await anthropic(t.testKey));
    for (let i = 0; i < 4; i++) statuses.push(await anthropic(limited));
    for (let i = 0; i < 6; i++) statuses.push(await anthropic(live));
    statuses.push(await anthropic(live, "sim-fault:503"));
    statuses.push(await anthropic(`${t.testKey.slice(0, -6)}zzzzzz`));
    statuses.push(await anthropic(watched, "sim-tokens:1500", 1600));
    const openai = await fetch(`${t.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${live}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    await openai.arrayBuffer();
    expect(openai.status).toBe(502);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 200, 200, 200, 200, 200, 200, 503, 401, 200]);
    for (let i = 0; i < 100; i++) {
      text = await (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminKey}` } })).text();
      if ((value(text, "latchkey_webhook_delivery_failures_total") ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  it("counts requests by outcome and reason: served, refused by which limit or check, upstream errors by class", () => {
    expect(value(text, 'latchkey_gateway_outcomes_total{outcome="served",reason="none",provider="simulator"}')).toBe(6);
    expect(value(text, 'latchkey_gateway_outcomes_total{outcome="served",reason="none",provider="anthropic"}')).toBe(6);
    expect(value(text, 'latchkey_gateway_outcomes_total{outcome="refused",reason="key_requests_per_minute",provider="simulator"}')).toBe(2);
    expect(value(text, 'latchkey_gateway_outcomes_total{outcome="refused",reason="key_malformed",provider="none"}')).toBe(1);
    expect(value(text, 'latchkey_gateway_outcomes_total{outcome="upstream_error",reason="status_5xx",provider="anthropic"}')).toBe(1);
    expect(value(text, 'latchkey_gateway_outcomes_total{outcome="upstream_error",reason="connect",provider="openai"}')).toBe(1);
  });

  it("counts failed upstream attempts and retries per credential", () => {
    expect(value(text, `latchkey_upstream_errors_total{provider="anthropic",credential_id="${flaky}",class="status_529"}`)).toBeGreaterThan(0);
    expect(value(text, `latchkey_upstream_retries_total{provider="anthropic",credential_id="${flaky}"}`)).toBeGreaterThan(0);
    // Three attempts at a dead port: two retried, the last given up.
    expect(value(text, `latchkey_upstream_errors_total{provider="openai",credential_id="${dead}",class="connect"}`)).toBe(3);
    expect(value(text, `latchkey_upstream_retries_total{provider="openai",credential_id="${dead}"}`)).toBe(2);
  });

  it("has time-to-first-byte and duration histograms by provider and model", () => {
    expect(value(text, 'latchkey_gateway_time_to_first_byte_seconds_count{provider="anthropic",model="claude-haiku-4-5"}')).toBe(7);
    expect(value(text, 'latchkey_gateway_request_duration_seconds_count{provider="simulator",model="claude-haiku-4-5"}')).toBe(6);
    expect(text).toMatch(/^latchkey_gateway_time_to_first_byte_seconds_bucket\{le="0\.5",provider="simulator",model="claude-haiku-4-5"\} \d+$/m);
  });

  it("reports the usage writer's backlog, the database, webhook failures and the build", () => {
    expect(value(text, "latchkey_usage_queue_events")).toBeGreaterThanOrEqual(0);
    expect(value(text, "latchkey_usage_spool_bytes")).toBe(0);
    expect(value(text, "latchkey_database_up")).toBe(1);
    expect(value(text, "latchkey_webhook_delivery_failures_total")).toBeGreaterThan(0);
    expect(text).toMatch(/^latchkey_build_info\{version="\d+\.\d+\.\d+[^"]*",node_version="\d+\.\d+\.\d+"\} 1$/m);
    expect(value(text, 'latchkey_management_requests_total{method="POST",route="/api/v1/keys",status="201"}')).toBeGreaterThanOrEqual(3);
  });

  it("follows Prometheus naming: counters end in _total, gauges never do", () => {
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
    expect(types.length).toBeGreaterThan(20);
    for (const { name, type } of types) {
      if (type === "gauge") expect(name).not.toMatch(/_total$/);
      if (type === "counter") expect(name).toMatch(/_total$/);
      expect(name).toMatch(/^latchkey_[a-z0-9_]+$/);
    }
  });

  it("never carries a key or a credential secret", () => {
    for (const secret of [t.adminKey, t.testKey, live, limited, FLAKY_SECRET, STEADY_SECRET, DEAD_SECRET]) expect(text).not.toContain(secret);
  });
});

describe("who may read /metrics", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal", metricsPort: 0 });
  });
  afterAll(async () => t?.close());

  const scrape = (url: string, bearer?: string) => fetch(`${url}/metrics`, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});

  it("on the main port: refuses no key (401), a gateway key (403) and an admin key without metrics:read (403), in the API's error shape", async () => {
    const none = await scrape(t.url);
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.request_id).toMatch(/^req_/);
    expect((await scrape(t.url, t.testKey)).status).toBe(403);
    const reader = (await t.api("POST", "/api/v1/keys", { name: "keys reader", kind: "admin", scopes: ["keys:read"] })).body.key;
    const r = await scrape(t.url, reader);
    expect(r.status).toBe(403);
    expect(((await r.json()) as any).error.message).toMatch(/metrics:read/);
  });

  it("on the main port: serves the series to an admin key with metrics:read", async () => {
    const key = (await t.api("POST", "/api/v1/keys", { name: "scraper", kind: "admin", scopes: ["metrics:read"] })).body.key;
    const r = await scrape(t.url, key);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await r.text()).toMatch(/^latchkey_database_up 1$/m);
  });

  it("on LATCHKEY_METRICS_PORT: serves the series without a key, and nothing else", async () => {
    const url = t.app.metricsUrl();
    expect(url).not.toBeNull();
    expect(url).not.toBe(t.url);
    const r = await scrape(url!);
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/^latchkey_database_up 1$/m);
    for (const path of ["/api/v1/keys", "/healthz", "/v1/models", "/metrics/x"]) {
      const other = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${t.adminKey}` } });
      expect(other.status, path).toBe(404);
      expect(await other.text()).not.toMatch(/lk_|latchkey_/);
    }
  });

  it("has no metrics listener unless the setting asks for one", async () => {
    const plain = await startSqliteApp({ logLevel: "fatal" });
    try {
      expect(plain.app.metricsUrl()).toBeNull();
    } finally {
      await plain.close();
    }
  });
});
