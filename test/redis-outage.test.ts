/**
 * Redis unreachable under load, then back: the documented policy holds — spend limits fail closed,
 * rate limits fall back to limit/N on this node — /readyz says so, and it recovers by itself.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createApp, type App } from "../src/main.js";
import { createPgSchema, postgresAvailable, REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const ready = (await postgresAvailable()) && (await redisAvailable());

describe.skipIf(!ready)("Redis outage", () => {
  let app: App;
  let url = "";
  let admin = "";
  let schema: Awaited<ReturnType<typeof createPgSchema>>;
  const redis = new URL(REDIS_URL);
  const proxy = new TcpProxy(redis.hostname, Number(redis.port || 6379));
  let dataDir = "";
  const redisKeys = redisPrefix();

  beforeAll(async () => {
    // Made here, not while the suite is collected: a suite skipped for want of a service leaves nothing behind.
    dataDir = mkdtempSync(join(tmpdir(), "latchkey-redis-outage-"));
    schema = await createPgSchema();
    const port = await proxy.start();
    app = await createApp(loadConfig({ env: {}, overrides: {
      dataDir, databaseUrl: schema.url, redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: redisKeys.prefix, nodeCount: 2, port: 0, logLevel: "fatal",
    } }));
    url = await app.listen();
    admin = app.bootstrap!.created!.adminKey;
  });
  afterAll(async () => {
    await app?.close();
    await proxy.stop();
    await schema?.drop();
    await redisKeys.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const key = async (body: object) => (await (await fetch(`${url}/api/v1/keys`, {
    method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify({ kind: "test", ...body }),
  })).json()) as { key: string };
  const call = (k: string) => fetch(`${url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": k, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
  });
  const statuses = async (k: string, n: number) => { const out: number[] = []; for (let i = 0; i < n; i++) out.push((await call(k)).status); return out; };
  const readyz = async () => {
    const r = await fetch(`${url}/readyz`);
    return { code: r.status, ...((await r.json()) as { status: string; checks: Record<string, unknown> }) };
  };

  it("fails closed for spend limits, falls back to limit/N for rate limits, and recovers", async () => {
    const budget = (await key({ name: "budget", spend_limit: { amount_usd: "10", period: "day" } })).key;
    const rpm = (await key({ name: "rpm", rate_limits: { requests_per_minute: 10 } })).key;
    expect(await statuses(budget, 2)).toEqual([200, 200]);
    expect((await readyz()).checks.redis).toBe("ok");

    await proxy.stop();
    const outage = await statuses(budget, 3);
    expect(outage).toEqual([503, 503, 503]);
    // Limit 10 over 2 nodes: this node alone may admit 5 while it cannot see the others' counts.
    const local = await statuses(rpm, 8);
    expect(local.filter((s) => s === 200)).toHaveLength(5);
    expect(local.slice(5)).toEqual([429, 429, 429]);
    // Rate limits still serve on local counters: the node says it is degraded but stays in the
    // load balancer (a 503 here would take every node out at once).
    const degraded = await readyz();
    expect(degraded.code).toBe(200);
    expect(degraded.status).toBe("degraded");
    expect(degraded.checks.redis).toBe("degraded");

    await proxy.start();
    let state = "";
    for (let i = 0; i < 50 && state !== "ok"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = String((await readyz()).checks.redis);
    }
    expect(state).toBe("ok");
    expect(await statuses(budget, 2)).toEqual([200, 200]);
  });
});
