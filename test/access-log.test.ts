/**
 * The access log: one JSON line per gateway request (served, refused by which limit, failed over,
 * refused before the key is known) and per management request (actor and route), at a level the
 * operator picks, and never a key or credential in it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";

const FAILING_SECRET = "sk-ant-fail-529-ACCESSLOG-SECRET-0001";
const GOOD_SECRET = "sk-ant-ACCESSLOG-SECRET-GOOD-0002";

type Line = Record<string, any>;
const lines = (t: TestApp, kind: string): Line[] => t.logs.flatMap((l) => l.split("\n")).filter(Boolean).map((l) => JSON.parse(l) as Line).filter((l) => l.kind === kind);
async function lineFor(t: TestApp, requestId: string): Promise<Line> {
  for (let i = 0; i < 50; i++) {
    const found = lines(t, "access").find((l) => l.requestId === requestId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no access line for ${requestId}`);
}
const message = (t: TestApp, key: string, content = "hi", headers: Record<string, string> = {}) => fetch(`${t.url}/v1/messages`, {
  method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json", ...headers },
  body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 20, messages: [{ role: "user", content }] }),
});

describe("access log", () => {
  let t: TestApp;
  let sim: SimulatorServer;
  let live: { id: string; key: string };
  let limited: { id: string; key: string };

  beforeAll(async () => {
    t = await startSqliteApp();
    sim = await createSimulatorServer();
    // The failing credential weighs ten times the good one: most requests try it first and fail over.
    expect((await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "flaky", secret: FAILING_SECRET, base_url: sim.url, weight: 10 })).status).toBe(201);
    expect((await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "steady", secret: GOOD_SECRET, base_url: sim.url, weight: 1 })).status).toBe(201);
    live = (await t.api("POST", "/api/v1/keys", { name: "billing-service", kind: "live" })).body;
    limited = (await t.api("POST", "/api/v1/keys", { name: "one-a-minute", kind: "test", rate_limits: { requests_per_minute: 1 } })).body;
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  it("writes a served request's line with key, workspace, model, provider, deployment, status, timings, tokens and cost", async () => {
    const r = await message(t, t.testKey, "sim-tokens:7");
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const line = await lineFor(t, r.headers.get("request-id")!);
    expect(line).toMatchObject({
      level: 30, msg: "gateway request", keyId: expect.stringMatching(/^key_/), keyName: expect.any(String), workspaceId: expect.stringMatching(/^wrk_/),
      endpoint: "messages", model: "claude-haiku-4-5", provider: "simulator", deployment: "simulator", status: 200, upstreamStatus: 200,
      attempts: 1, refusal: null, error: null, outputTokens: 7, inputTokens: expect.any(Number), streamed: false,
    });
    expect(line.latencyMs).toBeGreaterThanOrEqual(line.ttfbMs);
    expect(line.costUsd).toBeGreaterThan(0);
  });

  it("says which limit refused a request", async () => {
    expect((await message(t, limited.key)).status).toBe(200);
    const refused = await message(t, limited.key);
    expect(refused.status).toBe(429);
    const line = await lineFor(t, refused.headers.get("request-id")!);
    expect(line).toMatchObject({ keyId: limited.id, keyName: "one-a-minute", status: 429, attempts: 0, upstreamStatus: null, refusal: "key_requests_per_minute", error: "rate_limited", costUsd: 0 });
  });

  it("records a failed-over request's attempts, the upstream's last status and the credential that answered", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await message(t, live.key);
      expect(r.status).toBe(200);
      await r.arrayBuffer();
      ids.push(r.headers.get("request-id")!);
    }
    const all = await Promise.all(ids.map((id) => lineFor(t, id)));
    const creds = (await t.api("GET", "/api/v1/credentials")).body.data as { id: string; name: string }[];
    const steady = creds.find((c) => c.name === "steady")!.id;
    // Every answer came from the good credential, whichever was tried first.
    for (const l of all) expect(l).toMatchObject({ keyId: live.id, keyName: "billing-service", provider: "anthropic", status: 200, upstreamStatus: 200, deployment: steady });
    const failedOver = all.filter((l) => l.attempts === 2);
    expect(failedOver.length).toBeGreaterThan(0);
    expect(all.every((l) => l.attempts === 1 || l.attempts === 2)).toBe(true);
  });

  it("logs an upstream failure with its class once every attempt has failed", async () => {
    const r = await message(t, live.key, "sim-fault:500");
    expect(r.status).toBe(500);
    const line = await lineFor(t, r.headers.get("request-id")!);
    expect(line).toMatchObject({ status: 500, upstreamStatus: 500, attempts: 3, error: "upstream_status", refusal: null });
  });

  it("logs requests refused before any key is known, without the key they carried", async () => {
    const wrong = `${t.testKey.slice(0, -8)}AAAAAAAA`;
    const r = await message(t, wrong);
    expect(r.status).toBe(401);
    expect(await lineFor(t, r.headers.get("request-id")!)).toMatchObject({ status: 401, keyId: null, attempts: 0, refusal: "key_malformed", provider: "none" });
    const missing = await fetch(`${t.url}/v1/nothing-here`, { method: "POST" });
    expect(missing.status).toBe(404);
    expect(lines(t, "access").some((x) => x.refusal === "not_found" && x.status === 404)).toBe(true);
    expect(t.logs.join("")).not.toContain(wrong);
  });

  it("logs management requests with the actor and the route pattern", async () => {
    const created = await t.api("POST", "/api/v1/keys", { name: "logged", kind: "test" });
    await t.api("POST", `/api/v1/keys/${created.body.id}/revoke`);
    expect((await t.api("GET", "/api/v1/keys", undefined, "lk_admin_not-a-key")).status).toBe(401);
    await new Promise((r) => setTimeout(r, 50));
    const api = lines(t, "api");
    const revoke = api.find((l) => l.route === "/api/v1/keys/:id/revoke");
    expect(revoke).toMatchObject({ method: "POST", status: 200, actorType: "key", actorId: expect.stringMatching(/^key_/), orgId: expect.stringMatching(/^org_/), requestId: expect.stringMatching(/^req_/) });
    expect(api.find((l) => l.status === 401 && l.route === "/api/v1/keys")).toMatchObject({ actorId: null });
    // The route pattern, never the URL: ids and queries stay out of the route field.
    expect(api.every((l) => !String(l.route).includes(created.body.id))).toBe(true);
    expect(api.some((l) => l.route === "/healthz")).toBe(false);
  });

  it("never writes a key or a credential secret", () => {
    const text = t.logs.join("");
    for (const secret of [t.adminKey, t.testKey, live.key, limited.key, FAILING_SECRET, GOOD_SECRET]) expect(text).not.toContain(secret);
    expect(lines(t, "access").length).toBeGreaterThan(10);
  });
});

describe("access log level", () => {
  it("writes no access lines when set off, or set below the log level, and still serves", async () => {
    for (const overrides of [{ accessLogLevel: "off" }, { accessLogLevel: "debug", logLevel: "info" }]) {
      const t = await startSqliteApp(overrides);
      try {
        const r = await message(t, t.testKey);
        expect(r.status).toBe(200);
        expect((await t.api("GET", "/api/v1/keys")).status).toBe(200);
        await new Promise((res) => setTimeout(res, 50));
        expect(lines(t, "access")).toEqual([]);
        expect(lines(t, "api")).toEqual([]);
      } finally {
        await t.close();
      }
    }
  });

  it("writes them at debug when asked", async () => {
    const t = await startSqliteApp({ accessLogLevel: "debug", logLevel: "debug" });
    try {
      const r = await message(t, t.testKey);
      const line = await lineFor(t, r.headers.get("request-id")!);
      expect(line.level).toBe(20);
    } finally {
      await t.close();
    }
  });
});
