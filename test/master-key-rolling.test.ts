/**
 * Rolling a new master key across two nodes on one PostgreSQL, with traffic flowing the whole time:
 * one node restarts with the new key (the old one as LATCHKEY_MASTER_KEY_PREVIOUS) while the other
 * still runs the old key alone; a credential written on the new node is sealed under the new key and
 * the old node leaves it out rather than failing; then the second node rolls, `rotate-master`
 * re-wraps what is still under the old key, and both nodes restart with the new key alone.
 * No request fails at any step.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createSimulatorServer } from "../src/providers/index.js";
import { adminApi, latchkeyCliAsync, stopProcess as stop, UpNodes } from "./support/nodes.js";
import { createPgSchema, postgresAvailable, redisAvailable, redisPrefix, REDIS_URL } from "./support/services.js";

const pgOk = await postgresAvailable();
const redisOk = await redisAvailable();
const OLD = "31".repeat(32);
const NEW = "c7".repeat(32);

describe.skipIf(!pgOk || !redisOk)("rolling master-key rotation on two nodes", () => {
  const nodes = new UpNodes();
  afterAll(() => nodes.close());

  it("serves every request while the nodes move from the old key to the new one", async () => {
    const sim = await createSimulatorServer();
    nodes.onClose(() => sim.close());
    const schema = await createPgSchema();
    nodes.onClose(schema.drop);
    const redis = redisPrefix();
    nodes.onClose(redis.cleanup);
    const base = { LATCHKEY_DATABASE_URL: schema.url, LATCHKEY_REDIS_URL: REDIS_URL, LATCHKEY_REDIS_PREFIX: redis.prefix };
    const firstDir = nodes.dir("roll");
    const start = (keys: Record<string, string>, dataDir = nodes.dir("roll")) => nodes.start(dataDir, { ...base, ...keys });
    const oldOnly = { LATCHKEY_MASTER_KEY: OLD };
    const rolling = { LATCHKEY_MASTER_KEY: NEW, LATCHKEY_MASTER_KEY_PREVIOUS: OLD };
    const newOnly = { LATCHKEY_MASTER_KEY: NEW };

    let a = await start(oldOnly, firstDir);
    const admin = a.admin!;
    expect(admin).toMatch(/^lk_admin_/);
    let b = await start(oldOnly);
    expect(b.admin).toBeNull();
    const api = (url: string, method: string, path: string, body?: unknown) => adminApi(url, admin)(method, path, body);
    expect((await api(a.url, "POST", "/api/v1/credentials", { provider: "anthropic", name: "old-sealed", secret: "sk-ant-ROLLING-OLD-0001", base_url: sim.url, priority: 5 })).status).toBe(201);
    expect((await api(a.url, "POST", "/api/v1/webhooks", { url: "https://example.com/hook", events: ["*"] })).status).toBe(201);
    const key = (await api(a.url, "POST", "/api/v1/keys", { name: "traffic", kind: "live" })).body.key as string;

    // The load balancer: requests go round the nodes that are up. A node leaves it and is drained
    // (no request of the balancer's still open on it) before it is stopped, as a load balancer's
    // connection draining does: otherwise a request picked just before the node left races its
    // listener closing, or lands on a keep-alive socket the stopping server is closing as idle, a
    // failure no server can prevent. (test/lifecycle.test.ts covers a request under way at SIGTERM.)
    const pool = new Set<string>([a.url, b.url]);
    const open = new Map<string, number>();
    const failures: string[] = [];
    let served = 0;
    let running = true;
    const worker = async (w: number) => {
      for (let i = w; running; i++) {
        const urls = [...pool];
        const url = urls[i % urls.length]!;
        open.set(url, (open.get(url) ?? 0) + 1);
        const r = await fetch(`${url}/v1/messages`, {
          method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
          body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: "sim-tokens:3" }] }),
        }).then(async (res) => `${res.status} ${await res.text()}`, (err: Error) => `fetch ${err.message} ${String((err.cause as Error | undefined)?.message ?? "")}`);
        open.set(url, open.get(url)! - 1);
        if (r.startsWith("200 ")) served++;
        else failures.push(`${url}: ${r.slice(0, 300)}`);
      }
    };
    const workers = [0, 1, 2].map(worker);
    const flowing = async () => {
      const before = served;
      for (let i = 0; i < 400 && served < before + 30; i++) await new Promise((r) => setTimeout(r, 50));
      expect(served).toBeGreaterThanOrEqual(before + 30);
    };
    const restart = async (node: typeof a, keys: Record<string, string>) => {
      pool.delete(node.url);
      for (let i = 0; i < 600 && (open.get(node.url) ?? 0) > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(open.get(node.url) ?? 0).toBe(0);
      await stop(node.proc);
      const next = await start(keys);
      pool.add(next.url);
      await flowing();
      return next;
    };

    try {
      await flowing();
      // Node B rolls first; A still has the old key alone.
      b = await restart(b, rolling);
      // Written on B: sealed under the new key, and preferred. A cannot open it and leaves it out.
      expect((await api(b.url, "POST", "/api/v1/credentials", { provider: "anthropic", name: "new-sealed", secret: "sk-ant-ROLLING-NEW-0002", base_url: sim.url, priority: 1 })).status).toBe(201);
      await flowing();
      a = await restart(a, rolling);

      // Every node holds both keys: re-wrap what is still under the old one, with traffic flowing.
      const rotate = await latchkeyCliAsync(["credentials", "rotate-master", "--data-dir", firstDir], { ...base, ...rolling }, 60_000);
      expect(rotate.stderr).toBe("");
      expect(rotate.status).toBe(0);
      // The old credential and the webhook secret; the credential written on B was under the new key already.
      expect(rotate.stdout).toMatch(/re-wrapped 2 sealed records from the previous master key/);
      expect(rotate.stdout).toMatch(/re-sealed the audit log \(\d+ records\)/);
      await flowing();

      // The old key is no longer needed: both nodes restart with the new key alone and serve both credentials.
      b = await restart(b, newOnly);
      a = await restart(a, newOnly);
      // The audit log, extended by nodes on either key during the roll and re-sealed by rotate-master, verifies.
      const audit = await api(b.url, "GET", "/api/v1/audit/verify");
      expect(audit.body).toMatchObject({ ok: true });
      expect(audit.body.count).toBeGreaterThanOrEqual(4);
      const tested = await api(a.url, "GET", "/api/v1/credentials");
      expect(tested.status).toBe(200);
      for (const c of tested.body.data as { id: string }[]) {
        const probe = await api(a.url, "POST", `/api/v1/credentials/${c.id}/test`);
        expect(probe.body.ok).toBe(true);
      }
      // A node that still had only the old key would now refuse to start rather than fail every request.
      const refused = await latchkeyCliAsync(["up", "--port", "0", "--data-dir", nodes.dir("roll-stale")], { ...base, ...oldOnly }, 60_000);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/does not open the stored provider credentials/);
    } finally {
      running = false;
      await Promise.all(workers);
    }
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(150);
    // Both credentials carried traffic: the one sealed under the new key is preferred wherever it opens.
    expect(sim.stats.byKey.get("sk-ant-ROLLING-NEW-0002") ?? 0).toBeGreaterThan(0);
    expect(sim.stats.byKey.get("sk-ant-ROLLING-OLD-0001") ?? 0).toBeGreaterThan(0);
  }, 300_000);
});
