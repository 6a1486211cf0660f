/**
 * A node that starts while Redis refuses connections keeps trying to subscribe to cache
 * invalidations, is not ready until it has, and from then on hears revocations made on another
 * node. Redis here is a server of this test's own on a free port, started late on purpose.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createApp, type App } from "../src/main.js";
import { freePort } from "./support/processes.js";
import { createPgSchema, postgresAvailable, SERVICES_REQUIRED } from "./support/services.js";

const redisServer = await new Promise<boolean>((ok) => {
  const p = spawn("redis-server", ["--version"]);
  p.on("error", () => ok(false));
  p.on("exit", (code) => ok(code === 0));
});
if (!redisServer) {
  if (SERVICES_REQUIRED) throw new Error("redis-server is required (LATCHKEY_TEST_SERVICES=required) but not installed");
  console.warn("\n*** SKIPPING the invalidation start-up test: no redis-server binary to start. ***\n");
}
const ready = redisServer && (await postgresAvailable());

describe.skipIf(!ready)("a node started while Redis refuses it", () => {
  const nodes: App[] = [];
  const dirs: string[] = [];
  let redis: ChildProcess | null = null;
  let redisPort = 0;
  let schema: Awaited<ReturnType<typeof createPgSchema>>;

  const start = async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "latchkey-subscribe-"));
    dirs.push(dataDir);
    const app = await createApp(loadConfig({ env: {}, overrides: {
      dataDir, databaseUrl: schema.url, redisUrl: `redis://127.0.0.1:${redisPort}`, masterKey: "22".repeat(32), nodeCount: 2, port: 0, metricsPort: 0, logLevel: "fatal",
    } }), { logDestination: { write: () => true } });
    nodes.push(app);
    return app;
  };

  beforeAll(async () => {
    schema = await createPgSchema();
    redisPort = await freePort();
  });
  afterAll(async () => {
    for (const n of nodes) await n.close(1000);
    if (redis?.pid) process.kill(redis.pid);
    await schema?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("becomes ready only once subscribed, then refuses a key revoked on another node within a second", async () => {
    const late = await start();
    const url = await late.listen();
    const readyz = async () => {
      const r = await fetch(`${url}/readyz`);
      return { status: r.status, body: (await r.json()) as { checks: Record<string, string> } };
    };
    // Redis refuses connections: the node serves its port but is not ready, and says why.
    const before = await readyz();
    expect(before.status).toBe(503);
    expect(before.body.checks.invalidations).toBe("not subscribed");
    await new Promise((r) => setTimeout(r, 1500));
    expect((await readyz()).status).toBe(503);
    expect(await (await fetch(`${late.metricsUrl()}/metrics`)).text()).toMatch(/^latchkey_invalidations_subscribed 0$/m);

    redis = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    const client = new Redis(redisPort, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on("error", () => undefined);
    // Deadlines, not counts of polls: on a loaded machine redis-server and the node's reconnects
    // take longer, and a timer fires late there too.
    // The client reconnects every 50 ms until the server accepts it.
    client.connect().catch(() => undefined);
    for (const deadline = Date.now() + 20_000; client.status !== "ready";) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${redisPort} did not accept connections (client ${client.status})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    client.disconnect();

    // The node reconnects its subscriber and its command connection each on its own: it may be
    // ready (subscribed) while the command connection still reconnects, Redis "degraded" then,
    // as designed. Wait until both are back.
    let after = await readyz();
    for (const deadline = Date.now() + 20_000; !(after.status === 200 && after.body.checks.redis === "ok") && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 100));
      after = await readyz();
    }
    expect(after.status).toBe(200);
    expect(after.body.checks).toMatchObject({ invalidations: "ok", redis: "ok", database: "ok" });
    expect(await (await fetch(`${late.metricsUrl()}/metrics`)).text()).toMatch(/^latchkey_invalidations_subscribed 1$/m);

    // A second node, where the key is made and revoked.
    const other = await start();
    const otherUrl = await other.listen();
    const adminKey = late.bootstrap!.created!.adminKey;
    const created = await (await fetch(`${otherUrl}/api/v1/keys`, {
      method: "POST", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: JSON.stringify({ name: "revoked elsewhere", kind: "test" }),
    })).json() as { id: string; key: string };
    const call = () => fetch(`${url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": created.key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    }).then(async (r) => (await r.arrayBuffer(), r.status));
    expect(await call()).toBe(200);
    const revoked = await fetch(`${otherUrl}/api/v1/keys/${created.id}/revoke`, { method: "POST", headers: { authorization: `Bearer ${adminKey}` } });
    expect(revoked.status).toBe(200);
    const at = Date.now();
    let status = await call();
    while (status === 200 && Date.now() - at < 3000) {
      await new Promise((r) => setTimeout(r, 20));
      status = await call();
    }
    expect(status).toBe(401);
    expect(Date.now() - at).toBeLessThan(1000);
  }, 90_000);
});
