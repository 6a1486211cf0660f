/** Spend and rate limits through the real gateway: concurrent requests never overshoot a budget. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { spentOnceWritten, startSqliteApp, type TestApp } from "./support/app.js";
import { readUntil } from "./support/gateway-harness.js";

function message(t: TestApp, key: string, maxTokens: number) {
  return fetch(`${t.url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: maxTokens, messages: [{ role: "user", content: `Count to three. sim-tokens:${Math.max(1, maxTokens - 100)}` }] }),
  });
}

describe("limits through the gateway", () => {
  let t: TestApp;
  let sim: SimulatorServer;

  beforeAll(async () => {
    sim = await createSimulatorServer();
    t = await startSqliteApp();
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  it("keeps 500 concurrent requests within a $1.00 key spend limit", async () => {
    const k = (await t.api("POST", "/api/v1/keys", { name: "budget", kind: "test", spend_limit: { amount_usd: "1.00", period: "month" } })).body;
    // max_tokens 2000 at $5/M output: each request may cost up to about $0.01.
    const responses = await Promise.all(Array.from({ length: 500 }, () => message(t, k.key, 2000)));
    const bodies = await Promise.all(responses.map(async (r) => ({ status: r.status, body: (await r.json()) as any })));
    const admitted = bodies.filter((b) => b.status === 200).length;
    const refused = bodies.filter((b) => b.status === 429);
    expect(admitted + refused.length).toBe(500);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.body).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    expect(refused[0]!.body.error.message).toMatch(/spend limit/);
    // Each admitted request really spends about $0.0095; at least every request whose $0.0101 bound
    // fit before anything was spent was admitted, and the total never passes the limit.
    expect(admitted).toBeGreaterThanOrEqual(99);
    await t.app.services.verifier.flushLastUsed();
    const { served, spent } = await spentOnceWritten(t, "key_id", k.id, admitted);
    expect(served).toBe(admitted);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(1_000_000_000);
  });

  it("shares a workspace spend limit across keys", async () => {
    const ws = (await t.api("POST", "/api/v1/workspaces", { name: "shared", spend_limit: { amount_usd: "0.50", period: "day" } })).body;
    // Live keys, served by the simulator as the workspace's provider credential.
    expect((await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-sim-secret", base_url: sim.url, workspace_id: ws.id })).status).toBe(201);
    const keys = await Promise.all([1, 2, 3].map(async (i) => (await t.api("POST", "/api/v1/keys", { name: `k${i}`, kind: "live", workspace_id: ws.id })).body.key as string));
    const responses = await Promise.all(Array.from({ length: 300 }, (_, i) => message(t, keys[i % 3]!, 2000)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(49);
    const admitted = statuses.filter((s) => s === 200).length;
    const { served, spent } = await spentOnceWritten(t, "workspace_id", ws.id, admitted);
    expect(served).toBe(admitted);
    expect(spent).toBeLessThanOrEqual(500_000_000);
    // A test key's simulated usage neither counts against the workspace's limit nor is refused by it.
    const test = (await t.api("POST", "/api/v1/keys", { name: "sandbox", kind: "test", workspace_id: ws.id })).body.key as string;
    expect((await Promise.all(Array.from({ length: 5 }, () => message(t, test, 2000)))).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it("runs an organization on prepaid credits: refused with the billing error when they run out, served again after a top-up", async () => {
    expect((await t.api("PATCH", "/api/v1/credits/settings", { credits_enabled: true })).status).toBe(200);
    expect((await t.api("POST", "/api/v1/credits", { amount_usd: "0.05", note: "trial" })).status).toBe(201);
    // A live key on the simulator's own model (test keys never spend credits).
    const k = (await t.api("POST", "/api/v1/keys", { name: "prepaid", kind: "live" })).body;
    const simLarge = () => fetch(`${t.url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": k.key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "sim-large", max_tokens: 2000, messages: [{ role: "user", content: "sim-tokens:1900" }] }),
    });
    const test = (await t.api("POST", "/api/v1/keys", { name: "free", kind: "test" })).body;
    const statuses: number[] = [];
    let refusal: any = null;
    for (let i = 0; i < 8; i++) {
      const r = await simLarge();
      statuses.push(r.status);
      const body = (await r.json()) as any;
      if (r.status !== 200) refusal = body;
    }
    // sim-large at $1/$4 per million: about $0.0076 a request against $0.05, each reserving its
    // $0.0080 bound first: 6 fit, the rest are refused.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 402, 402]);
    expect(refusal).toMatchObject({ type: "error", error: { type: "billing_error" } });
    expect(refusal.error.message).toMatch(/credit balance/);
    expect((await message(t, test.key, 2000)).status).toBe(200); // test keys are not charged
    await t.api("POST", "/api/v1/credits", { amount_usd: "1", note: "top-up" });
    // The top-up is seen at the next refresh of the organization's settings (2 s); refusals cost nothing meanwhile.
    const status = await readUntil(async () => { const r = await simLarge(); await r.arrayBuffer(); return r.status; }, (st) => st === 200, 5_000);
    expect(status).toBe(200);
    await t.api("PATCH", "/api/v1/credits/settings", { credits_enabled: false });
  });

  it("limits requests per minute with headers in the caller's dialect", async () => {
    const k = (await t.api("POST", "/api/v1/keys", { name: "rpm", kind: "test", rate_limits: { requests_per_minute: 5 } })).body;
    const responses = [];
    for (let i = 0; i < 8; i++) responses.push(await message(t, k.key, 16));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect(responses[0]!.headers.get("anthropic-ratelimit-requests-limit")).toBe("5");
    expect(responses[0]!.headers.get("anthropic-ratelimit-requests-remaining")).toBe("4");
    expect(Number.isNaN(Date.parse(responses[0]!.headers.get("anthropic-ratelimit-requests-reset")!))).toBe(false);
    expect(Number(responses[5]!.headers.get("retry-after"))).toBeGreaterThan(0);
    const openai = await fetch(`${t.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${k.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(openai.status).toBe(429);
    expect(openai.headers.get("x-ratelimit-limit-requests")).toBe("5");
    expect(((await openai.json()) as any).error.code).toBe("rate_limit_exceeded");
  });
});
