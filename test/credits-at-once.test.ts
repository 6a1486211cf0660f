/**
 * Credits and limits take effect before the management call returns: enabling credits at $0
 * refuses the very next request, a top-up serves the very next one, re-enabling never reuses an
 * old balance, on one node and across two (PostgreSQL + Redis, over the invalidation bus). Roll-ups
 * racing live traffic never let the balance go below zero (each used to replace the counter and
 * drop the spend not yet written). Test keys never touch credits, spend limits or spend totals.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createApp, type App } from "../src/main.js";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";
import { readUntil } from "./support/gateway-harness.js";
import { createPgSchema, postgresAvailable, redisAvailable, REDIS_URL, redisPrefix } from "./support/services.js";
import { LOOPBACK_UPSTREAMS } from "./support/loopback.js";

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

function apiOf(url: string, adminKey: string): Api {
  return async (method, path, body) => {
    const r = await fetch(`${url}${path}`, {
      method, headers: { authorization: `Bearer ${adminKey}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
}

async function message(url: string, key: string, maxTokens = 16): Promise<{ status: number; body: any }> {
  const r = await fetch(`${url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: maxTokens, messages: [{ role: "user", content: "hello there" }] }),
  });
  return { status: r.status, body: await r.json() };
}

/** A live key served by the simulator as a real provider credential. */
async function liveKey(api: Api, sim: SimulatorServer, extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const cred = await api("POST", "/api/v1/credentials", { provider: "anthropic", name: `sim ${Math.random()}`, secret: "sk-ant-sim-secret", base_url: sim.url });
  expect(cred.status).toBe(201);
  const k = await api("POST", "/api/v1/keys", { name: "live", kind: "live", ...extra });
  expect(k.status).toBe(201);
  return { id: k.body.id, key: k.body.key };
}

describe("credits on one node (SQLite)", () => {
  let t: TestApp;
  let sim: SimulatorServer;
  let api: Api;

  beforeAll(async () => {
    sim = await createSimulatorServer();
    t = await startSqliteApp();
    api = apiOf(t.url, t.adminKey);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  it("refuses the request sent the moment credits are enabled at $0, and serves the one sent the moment of a top-up", async () => {
    const { key } = await liveKey(api, sim);
    expect((await message(t.url, key)).status).toBe(200);
    expect((await api("PATCH", "/api/v1/credits/settings", { credits_enabled: true })).status).toBe(200);
    const refused = await message(t.url, key);
    expect(refused.status).toBe(402);
    expect(refused.body.error.type).toBe("billing_error");
    expect((await api("POST", "/api/v1/credits", { amount_usd: "1", note: "top-up" })).status).toBe(201);
    expect((await message(t.url, key)).status).toBe(200);
  });

  it("does not reuse an old balance when credits are turned on again", async () => {
    const { key } = await liveKey(api, sim);
    const before = (await api("GET", "/api/v1/credits")).body.balance_nano_usd as number;
    expect((await api("PATCH", "/api/v1/credits/settings", { credits_enabled: false })).status).toBe(200);
    // While off, the balance is taken to zero.
    expect((await api("POST", "/api/v1/credits", { amount_usd: String(-before / 1e9), note: "to zero", kind: "adjustment" })).status).toBe(201);
    expect((await message(t.url, key)).status).toBe(200);
    expect((await api("PATCH", "/api/v1/credits/settings", { credits_enabled: true })).status).toBe(200);
    expect((await message(t.url, key)).status).toBe(402);
  });

  it("lets test keys through at $0 and never charges their usage to credits", async () => {
    const testKey = t.testKey;
    await t.app.services.usageRollups.runOnce();
    const before = (await api("GET", "/api/v1/credits")).body;
    const served = await Promise.all(Array.from({ length: 5 }, () => message(t.url, testKey)));
    expect(served.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await readUntil(() => t.app.database.db.selectFrom("usage_events").select("id").where("status", "=", 200).execute(), (r) => r.length >= 5);
    await t.app.services.usageRollups.runOnce();
    const credits = (await api("GET", "/api/v1/credits")).body;
    expect(credits.balance_nano_usd).toBe(before.balance_nano_usd);
    expect(credits.ledger.data).toEqual(before.ledger.data);
    // Reported apart: the usage report leaves test keys out unless asked for them alone.
    const testKeyId = (await api("GET", "/api/v1/keys?kind=test")).body.data[0].id as string;
    const report = async (extra: string) => (await api("GET", `/api/v1/usage?starting_at=2020-01-01T00:00:00Z&group_by[]=api_key_id&limit=31&bucket_width=1d${extra}`)).body;
    const keysIn = (r: any) => new Set(r.data.flatMap((b: any) => b.results.map((x: any) => x.api_key_id)));
    const page = async (extra: string) => {
      let r = await report(extra);
      while (r.has_more) r = await report(`${extra}&page=${r.next_page}`);
      return r;
    };
    const live = await page("");
    const only = await page("&test_usage=only");
    expect(keysIn(live).has(testKeyId)).toBe(false);
    expect([...keysIn(only)]).toEqual([testKeyId]);
    expect(only.data.flatMap((b: any) => b.results).reduce((n: number, x: any) => n + x.requests, 0)).toBeGreaterThanOrEqual(5);
  });

  it("never goes below zero while roll-ups race the traffic", async () => {
    const { id } = await liveKey(api, sim);
    const key = (await api("POST", `/api/v1/keys/${id}/roll`, { grace_seconds: 0 })).body.key as string;
    expect((await api("POST", "/api/v1/credits", { amount_usd: "0.002", note: "a little" })).status).toBe(201);
    let stop = false;
    const rollups = (async () => {
      while (!stop) {
        await t.app.services.usageRollups.runOnce();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const statuses: number[] = [];
    const deadline = Date.now() + 4_000;
    await Promise.all(Array.from({ length: 8 }, async () => {
      const exhausted = () => statuses.length >= 20 && statuses.slice(-20).every((s) => s === 402);
      while (Date.now() < deadline && !exhausted()) {
        statuses.push((await message(t.url, key, 64)).status);
      }
    }));
    stop = true;
    await rollups;
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 402).length).toBeGreaterThan(0);
    const served = statuses.filter((s) => s === 200).length;
    await readUntil(() => t.app.database.db.selectFrom("usage_events").select("id").where("key_id", "in", [id]).execute(), () => true);
    await readUntil(async () => {
      await t.app.services.usageRollups.runOnce();
      return (await api("GET", "/api/v1/credits")).body;
    }, (c) => c.pending_usage_nano_usd === 0 && served > 0);
    const credits = (await api("GET", "/api/v1/credits")).body;
    expect(credits.balance_nano_usd).toBeGreaterThanOrEqual(0);
  });
});

const multi = (await postgresAvailable()) && (await redisAvailable());

describe.skipIf(!multi)("credits across two nodes (PostgreSQL + Redis)", () => {
  const nodes: { app: App; url: string }[] = [];
  const dirs: string[] = [];
  const redisKeys = redisPrefix();
  let drop: () => Promise<void> = async () => {};
  let sim: SimulatorServer;
  let api0: Api;
  let api1: Api;

  beforeAll(async () => {
    sim = await createSimulatorServer();
    const schema = await createPgSchema();
    drop = schema.drop;
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), "latchkey-node-"));
      dirs.push(dataDir);
      const config = loadConfig({ env: {}, overrides: {
        dataDir, databaseUrl: schema.url, redisUrl: REDIS_URL, redisPrefix: redisKeys.prefix, masterKey: "22".repeat(32), nodeCount: 2, port: 0, logLevel: "warn", allowPrivateUpstreams: LOOPBACK_UPSTREAMS,
      } });
      const app = await createApp(config, { logDestination: { write: () => true } });
      nodes.push({ app, url: await app.listen() });
    }
    const adminKey = nodes[0]!.app.bootstrap!.created!.adminKey;
    api0 = apiOf(nodes[0]!.url, adminKey);
    api1 = apiOf(nodes[1]!.url, adminKey);
  });
  afterAll(async () => {
    for (const n of nodes) await n.app.close();
    await drop();
    await redisKeys.cleanup();
    await sim?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("a change made on one node is in force on the other by the time the call returns", async () => {
    const { key } = await liveKey(api0, sim);
    // Both nodes have the organization's settings cached (credits off).
    expect((await message(nodes[0]!.url, key)).status).toBe(200);
    expect((await message(nodes[1]!.url, key)).status).toBe(200);
    expect((await api0("PATCH", "/api/v1/credits/settings", { credits_enabled: true })).status).toBe(200);
    expect((await message(nodes[1]!.url, key)).status).toBe(402);
    expect((await api0("POST", "/api/v1/credits", { amount_usd: "1", note: "top-up" })).status).toBe(201);
    expect((await message(nodes[1]!.url, key)).status).toBe(200);
    expect((await message(nodes[0]!.url, key)).status).toBe(200);
    // An organization spend limit set on the second node holds on the first at once.
    expect((await api1("PATCH", "/api/v1/organization", { spend_limit: { amount_usd: "0.000000001", period: "month" } })).status).toBe(200);
    expect((await message(nodes[0]!.url, key)).status).toBe(429);
    expect((await api1("PATCH", "/api/v1/organization", { spend_limit: null })).status).toBe(200);
    expect((await message(nodes[0]!.url, key)).status).toBe(200);
    expect((await api1("PATCH", "/api/v1/credits/settings", { credits_enabled: false })).status).toBe(200);
    const adjust = (await api1("GET", "/api/v1/credits")).body.balance_nano_usd as number;
    expect((await api1("POST", "/api/v1/credits", { amount_usd: String(-adjust / 1e9), note: "to zero", kind: "adjustment" })).status).toBe(201);
    expect((await message(nodes[0]!.url, key)).status).toBe(200);
    expect((await api1("PATCH", "/api/v1/credits/settings", { credits_enabled: true })).status).toBe(200);
    expect((await message(nodes[0]!.url, key)).status).toBe(402);
  });
});
