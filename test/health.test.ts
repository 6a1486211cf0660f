/**
 * Health that tells the truth: /healthz fails when the event loop stalls or a store probe hangs
 * (not merely when the socket stops accepting); /readyz bounds every check by a timeout and says
 * which dependency is down.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createApp, type App } from "../src/main.js";
import { startSqliteApp, type TestApp } from "./support/app.js";
import { createPgSchema, PG_URL, postgresAvailable } from "./support/services.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const probe = async (url: string) => {
  const started = Date.now();
  const r = await fetch(url);
  return { status: r.status, ms: Date.now() - started, body: (await r.json()) as { status: string; checks: Record<string, string> } };
};

describe("/healthz watches the event loop", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp();
  });
  afterAll(async () => t?.close());

  it("answers ok while the loop keeps time and the store answers", async () => {
    const h = await probe(`${t.url}/healthz`);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: "ok", checks: { event_loop: "ok", store_probe: "ok" } });
    const r = await probe(`${t.url}/readyz`);
    expect(r).toMatchObject({ status: 200, body: { status: "ready", checks: { database: "ok" } } });
  });

  it("fails after the loop was blocked for longer than the bound, and recovers", async () => {
    const until = Date.now() + 2600;
    while (Date.now() < until) {
      // A synchronous hang, as a runaway computation or a blocking call would make.
    }
    const h = await probe(`${t.url}/healthz`);
    expect(h.status).toBe(503);
    expect(h.body.status).toBe("failing");
    expect(h.body.checks.event_loop).toMatch(/^stalled \d+ ms$/);
    // The stall ages out of the 5 s window.
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await probe(`${t.url}/healthz`)).status;
    }
    expect(status).toBe(200);
  });
});

const pgReady = await postgresAvailable();

describe.skipIf(!pgReady)("health with a hung or a refusing PostgreSQL", () => {
  let app: App;
  let url = "";
  let schema: Awaited<ReturnType<typeof createPgSchema>>;
  const pgUrl = new URL(PG_URL);
  const proxy = new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  let dataDir = "";

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "latchkey-health-"));
    schema = await createPgSchema();
    const viaProxy = new URL(schema.url);
    viaProxy.port = String(await proxy.start());
    app = await createApp(loadConfig({ env: {}, overrides: { dataDir, databaseUrl: viaProxy.toString(), port: 0, logLevel: "fatal" } }));
    url = await app.listen();
  });
  afterAll(async () => {
    proxy.thaw();
    await app?.close(1000);
    await proxy.stop();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers within its bound while the database hangs: readiness 503 (timeout), liveness 503 (probe never settles)", async () => {
    expect((await probe(`${url}/readyz`)).status).toBe(200);
    proxy.freeze();
    const [ready, live] = await Promise.all([probe(`${url}/readyz`), probe(`${url}/healthz`)]);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: "not ready", checks: { database: "timeout" } });
    expect(ready.ms).toBeLessThan(4000);
    expect(live.status).toBe(503);
    expect(live.body.checks.store_probe).toMatch(/^no answer in \d+ ms$/);
    expect(live.ms).toBeLessThan(4000);
    proxy.thaw();
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await probe(`${url}/readyz`)).status;
    }
    expect(status).toBe(200);
  });

  it("stays live but not ready while the database refuses connections", async () => {
    await proxy.stop();
    try {
      const ready = await probe(`${url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.body.checks.database).toMatch(/^(down|timeout)$/);
      const live = await probe(`${url}/healthz`);
      expect(live.status).toBe(200);
    } finally {
      await proxy.start();
    }
  });
});
