/**
 * Concurrency slots are given back under every fault: the default per-key concurrency (in
 * process on SQLite, in Redis on PostgreSQL + Redis) and each key's share of an upstream pool.
 * After faulty requests of every kind (an upstream 5xx, a refused connection, a body cut by the
 * upstream, a client hanging up mid-stream and while waiting for JSON, a body the client never
 * finished, an upstream timeout, a request refused after admission, Redis failing a reservation
 * after the rate limits admitted), no slot is held, and as many good requests as the limit allows
 * are all admitted at once.
 */
import { request } from "node:http";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLimitsRedis, type MemoryRateLimiter } from "../src/limits/index.js";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startApp, type TestApp } from "./support/app.js";
import { backends, type TestBackend } from "./support/backends.js";
import { readUntil } from "./support/gateway-harness.js";
import { REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

const LIMIT = 3;
const redisOk = await redisAvailable();

for (const factory of await backends()) {
  const shared = factory.name === "postgres";
  describe.skipIf(!factory.available || (shared && !redisOk))(`slots given back under faults on ${shared ? "PostgreSQL + Redis" : "SQLite"}`, () => {
    let sim: SimulatorServer;
    let backend: TestBackend;
    let t: TestApp;
    let redis: Redis | null = null;
    const keys = redisPrefix();
    const { prefix } = keys;
    let live: { key: string; id: string };
    let refused: { key: string; id: string };

    beforeAll(async () => {
      sim = await createSimulatorServer({ paceMs: 20 });
      const gone = await createSimulatorServer();
      const closedUrl = gone.url;
      await gone.close();
      backend = await factory.create();
      t = await startApp(backend, {
        keyConcurrentRequests: LIMIT, upstreamKeyShare: 2, upstreamQueueTimeoutMs: 1500, upstreamFirstByteTimeoutMs: 1000, upstreamMaxAttempts: 1,
        ...(shared ? { redisUrl: REDIS_URL, redisPrefix: prefix } : {}),
      });
      if (shared) redis = createLimitsRedis(REDIS_URL);
      expect((await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-slots", base_url: sim.url })).status).toBe(201);
      live = (await t.api("POST", "/api/v1/keys", { name: "live", kind: "live", spend_limit: { amount_usd: "100", period: "month" } })).body;
      const ws = (await t.api("POST", "/api/v1/workspaces", { name: "refused" })).body;
      expect((await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "gone", secret: "sk-ant-gone", base_url: closedUrl, workspace_id: ws.id })).status).toBe(201);
      refused = (await t.api("POST", "/api/v1/keys", { name: "refused", kind: "live", workspace_id: ws.id })).body;
    });
    afterAll(async () => {
      if (redis) await keys.cleanup();
      redis?.disconnect();
      await t?.close();
      await backend?.cleanup();
      await sim?.close();
    });

    const body = (content: string, stream = false) => JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 300, stream, messages: [{ role: "user", content }] });
    const call = (key: string, content: string, o: { stream?: boolean; signal?: AbortSignal } = {}) => fetch(`${t.url}/v1/messages`, {
      method: "POST", signal: o.signal, headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" }, body: body(content, o.stream),
    });
    /** A request the client gives up: after the stream's first bytes, or `afterMs` into the wait for its JSON. */
    const hangUp = async (content: string, stream: boolean, afterMs = 0) => {
      const ac = new AbortController();
      const timer = afterMs ? setTimeout(() => ac.abort(), afterMs) : null;
      try {
        const r = await call(live.key, content, { stream, signal: ac.signal });
        await r.body!.getReader().read();
        ac.abort();
      } catch {
        // aborted before the answer began
      } finally {
        if (timer) clearTimeout(timer);
      }
    };

    /** Slots a key holds in the limits: the in-process limiter's, or the Redis set's members. */
    const rateSlots = async (keyId: string) => redis
      ? (await redis.keys(`${prefix}*r:key:${keyId}:c`)).length === 0 ? 0 : await redis.zcard((await redis.keys(`${prefix}*r:key:${keyId}:c`))[0]!)
      : (t.app.limits.rate as MemoryRateLimiter).openSlots(`key:${keyId}`);

    it("holds no slot after every kind of fault, and admits the whole limit at once afterwards", async () => {
      const statuses: number[] = [];
      const send = async (key: string, content: string, stream = false) => {
        const r = await call(key, content, { stream });
        statuses.push(r.status);
        await r.arrayBuffer().catch(() => undefined);
      };
      for (let round = 0; round < 2; round++) {
        await send(live.key, "sim-fault:500");
        await send(refused.key, "hello");
        await send(live.key, "sim-fault:die sim-tokens:40", true);
        await send(live.key, "sim-fault:slow sim-delay:3000"); // the first byte is 1 s late: 504
        await hangUp("sim-tokens:200", true);
        await hangUp("sim-fault:slow sim-delay:2000", false, 300);
        await halfBody(t.url, live.key);
      }
      expect(statuses).toEqual([500, 502, 200, 504, 500, 502, 200, 504]);
      // Refused after admission: two slow requests hold the key's share of the pool, a third waits past its queue time.
      const holding = [call(live.key, "sim-tokens:150", { stream: true }), call(live.key, "sim-tokens:150", { stream: true })];
      await readUntil(async () => t.app.gateway.upstreamSharesInUse(), (n) => n === 2);
      const late = await call(live.key, "hello");
      expect(late.status).toBe(429);
      expect(((await late.json()) as any).error.message).toMatch(/in flight to this provider/);
      for (const r of await Promise.all(holding)) {
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }

      // Everything ended: nothing held anywhere.
      expect(await readUntil(async () => t.app.gateway.upstreamSharesInUse(), (n) => n === 0)).toBe(0);
      expect(await readUntil(() => rateSlots(live.id), (n) => n === 0)).toBe(0);
      expect(await rateSlots(refused.id)).toBe(0);
      await expectWholeLimit(live.key);
    }, 90_000);

    it.skipIf(!shared)("gives the rate slot back when Redis fails the reservation that follows it", async () => {
      const [counter] = await redis!.keys(`${prefix}*b:key:${live.id}:*`);
      expect(counter, "the key's spend counter is in Redis").toBeDefined();
      const saved = await redis!.hgetall(counter!);
      await redis!.del(counter!);
      await redis!.set(counter!, "not a counter");
      try {
        for (let i = 0; i < LIMIT + 1; i++) {
          const r = await call(live.key, "hello");
          const b = (await r.json()) as any;
          expect(r.status).toBe(500);
          expect(b.request_id).toBe(r.headers.get("request-id"));
          const rows = await readUntil(() => t.app.database.db.selectFrom("usage_events").select(["status", "error_code"]).where("id", "=", b.request_id).execute(), (x) => x.length > 0);
          expect(rows).toEqual([{ status: 500, error_code: "internal" }]);
        }
      } finally {
        await redis!.del(counter!);
        await redis!.hset(counter!, saved);
      }
      expect(await rateSlots(live.id)).toBe(0);
      await expectWholeLimit(live.key);
    }, 60_000);

    /** As many slow requests as the key's concurrency, at once: all admitted (a held slot would refuse one). */
    async function expectWholeLimit(key: string) {
      const answers = await Promise.all(Array.from({ length: LIMIT }, () => call(key, "sim-fault:slow sim-delay:300")));
      expect(answers.map((r) => r.status)).toEqual(Array(LIMIT).fill(200));
      for (const r of answers) await r.arrayBuffer();
    }
  });
}

/** Half a JSON body, then the connection closes: the request never becomes a model call. */
function halfBody(url: string, key: string): Promise<void> {
  return new Promise((resolve) => {
    const text = JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: "x".repeat(2000) }] });
    const req = request(`${url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json", "content-length": String(text.length) },
    });
    req.on("error", () => resolve());
    req.on("close", () => resolve());
    req.write(text.slice(0, 1000), () => setTimeout(() => req.destroy(), 100));
  });
}
