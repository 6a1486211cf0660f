/**
 * PostgreSQL unreachable under load: keys already verified keep working, usage goes to the spool
 * file, and when the database is back every usage record arrives exactly once.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createApp, type App } from "../src/main.js";
import { createPgSchema, PG_URL, postgresAvailable } from "./support/services.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const ready = await postgresAvailable();

describe.skipIf(!ready)("PostgreSQL outage", () => {
  let app: App;
  let url = "";
  let testKey = "";
  let schema: Awaited<ReturnType<typeof createPgSchema>>;
  const pgUrl = new URL(PG_URL);
  const proxy = new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  let dataDir = "";

  beforeAll(async () => {
    // Made here, not while the suite is collected: a suite skipped for want of a service leaves nothing behind.
    dataDir = mkdtempSync(join(tmpdir(), "latchkey-outage-"));
    schema = await createPgSchema();
    const port = await proxy.start();
    const viaProxy = new URL(schema.url);
    viaProxy.port = String(port);
    app = await createApp(loadConfig({ env: {}, overrides: { dataDir, databaseUrl: viaProxy.toString(), port: 0, logLevel: "fatal" } }));
    url = await app.listen();
    testKey = app.bootstrap!.created!.testKey;
  });
  afterAll(async () => {
    await app?.close();
    await proxy.stop();
    await schema?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const call = () => fetch(`${url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": testKey, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
  });

  async function storedEvents(): Promise<{ n: number; distinct: number }> {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    const r = await c.query(`select count(*)::int as n, count(distinct id)::int as distinct from ${schema.schema}.usage_events`);
    await c.end();
    return r.rows[0];
  }

  it("serves from cache while the database is away, spools usage, and replays it exactly once", async () => {
    for (let i = 0; i < 10; i++) expect((await call()).status).toBe(200);
    await app.services.store.usage.count(); // the database answers
    await proxy.stop();
    const during = await Promise.all(Array.from({ length: 20 }, () => call()));
    expect(during.map((r) => r.status)).toEqual(Array(20).fill(200));
    const spool = join(dataDir, "usage-spool.jsonl");
    for (let i = 0; i < 50 && !existsSync(spool); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(spool)).toBe(true);

    await proxy.start();
    for (let i = 0; i < 100 && existsSync(spool); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(spool)).toBe(false);
    // Events recorded after the last spooled batch wait in memory for the next flush: the count
    // reaches 30 shortly after the spool is gone, and stays there.
    let stored = await storedEvents();
    for (let i = 0; i < 50 && stored.n < 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stored = await storedEvents();
    }
    expect(stored).toEqual({ n: 30, distinct: 30 });
    await new Promise((r) => setTimeout(r, 500));
    expect(await storedEvents()).toEqual({ n: 30, distinct: 30 });
  });
});
