/**
 * PostgreSQL cut under a live key (a provider credential pointing at the simulator): decrypted
 * credentials are served stale, also after every cache was told to reload, and what needs the
 * database answers 503 in the caller's format, never 500.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createApp, type App } from "../src/main.js";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { createPgSchema, PG_URL, postgresAvailable } from "./support/services.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { LOOPBACK_UPSTREAMS } from "./support/loopback.js";

const ready = await postgresAvailable();

describe.skipIf(!ready)("degraded modes: PostgreSQL cut", () => {
  let app: App;
  let sim: SimulatorServer;
  let url = "";
  let admin = "";
  let schema: Awaited<ReturnType<typeof createPgSchema>>;
  const pgUrl = new URL(PG_URL);
  const proxy = new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  let dataDir = "";
  let cut = false;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "latchkey-degraded-"));
    sim = await createSimulatorServer();
    schema = await createPgSchema();
    const viaProxy = new URL(schema.url);
    viaProxy.port = String(await proxy.start());
    app = await createApp(loadConfig({ env: {}, overrides: { dataDir, databaseUrl: viaProxy.toString(), port: 0, logLevel: "fatal", allowPrivateUpstreams: LOOPBACK_UPSTREAMS } }));
    url = await app.listen();
    admin = app.bootstrap!.created!.adminKey;
  });
  afterAll(async () => {
    if (cut) await proxy.start();
    await app?.close();
    await proxy.stop();
    await sim?.close();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const api = (method: string, path: string, body?: unknown) => fetch(`${url}${path}`, {
    method, headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const message = (key: string) => fetch(`${url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
  });

  it("serves live keys from stale credentials through a cut that follows an invalidation, and answers 503 for what needs the store", async () => {
    expect((await api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-degraded", base_url: sim.url })).status).toBe(201);
    const live = (await (await api("POST", "/api/v1/keys", { name: "live", kind: "live" })).json()) as { key: string };
    expect((await message(live.key)).status).toBe(200);
    // A credential change (as a Redis reconnect does for every node) tells the vault to reload.
    expect((await api("POST", "/api/v1/credentials", { provider: "openai", name: "other", secret: "sk-other", base_url: `${sim.url}/v1` })).status).toBe(201);
    await proxy.stop();
    cut = true;
    const during = await Promise.all(Array.from({ length: 5 }, () => message(live.key)));
    expect(during.map((r) => r.status)).toEqual(Array(5).fill(200));
    expect(sim.stats.byKey.get("sk-ant-degraded")).toBeGreaterThanOrEqual(6);

    // A key never seen before cannot be verified without the store: 503 in Anthropic's shape.
    const unknown = await message("lk_live_000000000000000000000000000000abcdef");
    expect([401, 503]).toContain(unknown.status);
    const listed = await api("GET", "/api/v1/keys");
    expect(listed.status).toBe(503);
    const body = (await listed.json()) as { error: { type: string; message: string }; request_id?: string };
    expect(JSON.stringify(body)).toMatch(/req_/);
    expect(body.error.message).not.toMatch(/internal/);
    await proxy.start();
    cut = false;
  }, 60_000);
});
