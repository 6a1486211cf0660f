/**
 * The default per-key concurrency (LATCHKEY_KEY_CONCURRENT_REQUESTS): a key whose own limits name
 * none never has more requests in flight upstream than the default, on one node (in-process
 * counters) and on PostgreSQL + Redis (shared counters); a key's own value replaces it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startApp, type TestApp } from "./support/app.js";
import { backends, type TestBackend } from "./support/backends.js";
import { REDIS_URL, redisAvailable } from "./support/services.js";

const DEFAULT = 6;

/** The most requests the upstream held at once, per credential. */
function watchInFlight(sim: SimulatorServer): { max: () => number; reset: () => void } {
  let now = 0;
  let max = 0;
  sim.server.prependListener("request", (_req: IncomingMessage, res: ServerResponse) => {
    now++;
    max = Math.max(max, now);
    res.once("close", () => now--);
  });
  return { max: () => max, reset: () => (max = now) };
}

const redisOk = await redisAvailable();

for (const factory of await backends()) {
  const shared = factory.name === "postgres";
  describe.skipIf(!factory.available || (shared && !redisOk))(`default key concurrency on ${shared ? "PostgreSQL + Redis" : "SQLite"}`, () => {
    let sim: SimulatorServer;
    let backend: TestBackend;
    let t: TestApp;
    let watch: ReturnType<typeof watchInFlight>;

    beforeAll(async () => {
      sim = await createSimulatorServer();
      watch = watchInFlight(sim);
      backend = await factory.create();
      t = await startApp(backend, { keyConcurrentRequests: DEFAULT, ...(shared ? { redisUrl: REDIS_URL, redisPrefix: `lkcc${Date.now() % 1e6}:` } : {}) });
      expect((await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-cc", base_url: sim.url })).status).toBe(201);
    });
    afterAll(async () => {
      await t?.close();
      await backend?.cleanup();
      await sim?.close();
    });

    const burst = async (key: string, n: number) => {
      watch.reset();
      const answers = await Promise.all(Array.from({ length: n }, async (_, i) => {
        const r = await fetch(`${t.url}/v1/messages`, {
          method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
          body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 20, messages: [{ role: "user", content: `n${i} sim-tokens:5 sim-fault:slow sim-delay:400` }] }),
        });
        return { status: r.status, body: (await r.json()) as any };
      }));
      return { answers, max: watch.max() };
    };

    it("holds a key with no concurrency of its own to the default, refusing the rest with 429", async () => {
      const key = (await t.api("POST", "/api/v1/keys", { name: "plain", kind: "live" })).body.key as string;
      const { answers, max } = await burst(key, 40);
      const served = answers.filter((a) => a.status === 200).length;
      const refused = answers.filter((a) => a.status === 429);
      expect(served + refused.length).toBe(40);
      expect(max, "requests in flight upstream at once").toBeLessThanOrEqual(DEFAULT);
      expect(served).toBeGreaterThanOrEqual(DEFAULT);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]!.body).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
      expect(refused[0]!.body.error.message).toMatch(/concurrent requests/);
      expect(refused[0]!.body.request_id).toMatch(/^req_/);
    });

    it("lets a key's own concurrent_requests replace the default, higher or lower", async () => {
      const higher = (await t.api("POST", "/api/v1/keys", { name: "higher", kind: "live", rate_limits: { requests_per_minute: null, tokens_per_minute: null, concurrent_requests: 10 } })).body.key as string;
      const a = await burst(higher, 40);
      expect(a.max).toBeLessThanOrEqual(10);
      expect(a.answers.filter((x) => x.status === 200).length).toBeGreaterThan(DEFAULT);
      const lower = (await t.api("POST", "/api/v1/keys", { name: "lower", kind: "live", rate_limits: { requests_per_minute: 1000, tokens_per_minute: null, concurrent_requests: 2 } })).body.key as string;
      const b = await burst(lower, 20);
      expect(b.max).toBeLessThanOrEqual(2);
      expect(b.answers.filter((x) => x.status === 200).length).toBeGreaterThanOrEqual(2);
      expect(b.answers.filter((x) => x.status === 429).length).toBeGreaterThan(0);
    });
  });
}
