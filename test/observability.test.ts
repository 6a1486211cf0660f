/** What operators see of live traffic: alerts fired by real usage, and Prometheus metrics. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/store/index.js";
import { startApp, startSqliteApp, type TestApp } from "./support/app.js";
import { backends } from "./support/backends.js";

describe("alerts and metrics from gateway traffic", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp();
  });
  afterAll(async () => t?.close());

  it("fires spend-limit threshold alerts once from real requests, and counts them in /metrics", async () => {
    // Each request really costs about $0.0095 (1,900 output tokens at $5/M); the limit is $0.05.
    const k = (await t.api("POST", "/api/v1/keys", { name: "watched", kind: "test", spend_limit: { amount_usd: "0.05", period: "day" } })).body;
    let ok = 0;
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${t.url}/v1/messages`, {
        method: "POST", headers: { "x-api-key": k.key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 2000, messages: [{ role: "user", content: "sim-tokens:1900" }] }),
      });
      await r.arrayBuffer();
      if (r.status === 200) ok++;
    }
    expect(ok).toBeGreaterThanOrEqual(4);
    let thresholds: number[] = [];
    for (let i = 0; i < 50 && !thresholds.includes(80); i++) {
      await new Promise((r) => setTimeout(r, 100));
      const alerts = (await t.api("GET", "/api/v1/alerts?limit=100")).body.data as { subject_id: string; threshold_percent: number }[];
      thresholds = alerts.filter((a) => a.subject_id === k.id).map((a) => a.threshold_percent).sort((a, b) => a - b);
    }
    expect(thresholds).toEqual([50, 80]);

    const metrics = await (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminKey}` } })).text();
    expect(metrics).toMatch(/latchkey_gateway_requests_total\{provider="simulator",model="claude-haiku-4-5",status="200"\} [45]$/m);
    expect(metrics).toMatch(/latchkey_gateway_tokens_total\{provider="simulator",model="claude-haiku-4-5",type="output"\} \d+/);
    expect(metrics).not.toContain(k.key);
    expect(metrics).not.toContain(k.id);
  });

  it("evaluates the alerts of the last usage written at shutdown before the store closes", async () => {
    const backend = await (await backends())[0]!.create();
    try {
      const app = await startApp(backend, { logLevel: "fatal" });
      const k = (await app.api("POST", "/api/v1/keys", { name: "last words", kind: "test", spend_limit: { amount_usd: "0.015", period: "day" } })).body;
      const r = await fetch(`${app.url}/v1/messages`, {
        method: "POST", headers: { "x-api-key": k.key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 2000, messages: [{ role: "user", content: "sim-tokens:1900" }] }),
      });
      await r.arrayBuffer();
      expect(r.status).toBe(200);
      // At once: the usage is still in the recorder and its alert evaluation not yet due.
      await app.close();
      const database = openDatabase({ url: backend.url });
      const fired = await database.db.selectFrom("alerts").select("threshold").where("subject_id", "=", k.id).execute();
      await database.close();
      // About $0.0095 of $0.015: past 50%.
      expect(fired.map((a) => Number(a.threshold))).toEqual([50]);
    } finally {
      await backend.cleanup();
    }
  });
});
