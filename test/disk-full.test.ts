/**
 * A full disk, provoked on SQLite with max_page_count (the file may not grow): /readyz says so with
 * the real cause, the log names SQLITE_FULL, usage waits in memory, and once space returns it is
 * written whole, in bounded transactions.
 */
import { sql } from "kysely";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageRecorder } from "../src/gateway/recorder.js";
import { WorkerUsageWriter, type UsageEvent } from "../src/store/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";
import { readUntil } from "./support/gateway-harness.js";

const event = (id: string): UsageEvent => ({
  id, at: Date.now(), orgId: "org_x", workspaceId: "wrk_x", keyId: "key_x", provider: "simulator", model: "sim-small", endpoint: "messages", inputTokens: 1, outputTokens: 1,
  cacheWriteTokens: 0, cacheReadTokens: 0, costNano: 1, status: 200, errorCode: null, streamed: false, aborted: false, latencyMs: 1, ttfbMs: 1,
});

describe("disk full (SQLITE_FULL)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp();
  });
  afterAll(async () => t?.close());

  // The cap is per connection: the usage thread's (the app on a SQLite file writes usage there) gets it too.
  const thread = () => {
    const w = t.app.services.store.usageWriter;
    expect(w).toBeInstanceOf(WorkerUsageWriter);
    return w as WorkerUsageWriter;
  };
  const fillDisk = async () => {
    const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(t.app.database.db)).rows[0]!.page_count;
    await sql.raw(`pragma max_page_count = ${pages}`).execute(t.app.database.db);
    await thread().pragma(`max_page_count = ${pages}`);
  };
  const freeDisk = async () => {
    await sql.raw("pragma max_page_count = 1073741823").execute(t.app.database.db);
    await thread().pragma("max_page_count = 1073741823");
  };
  const readyz = async () => { const r = await fetch(`${t.url}/readyz`); return { status: r.status, body: (await r.json()) as any }; };
  const call = () => fetch(`${t.url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": t.testKey, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: `fill ${"x".repeat(2000)}` }] }),
  });

  it("reports itself not ready with the real cause, and writes everything once space returns", async () => {
    expect((await readyz()).status).toBe(200);
    const before = await t.app.services.store.usage.count();
    await fillDisk();
    for (let i = 0; i < 200; i++) expect((await call()).status).toBe(200);
    const full = await readUntil(readyz, (r) => r.status === 503);
    expect(full.status).toBe(503);
    expect(full.body.checks.writes).toBe("disk full (SQLITE_FULL)");
    expect(t.logs.join("")).toMatch(/SQLITE_FULL/);
    await freeDisk();
    const after = await readUntil(() => t.app.services.store.usage.count(), (n) => n >= before + 200);
    expect(after).toBe(before + 200);
    expect((await readUntil(readyz, (r) => r.status === 200)).body.checks.writes).toBe("ok");
  }, 60_000);

  it("writes a backlog in transactions of at most 2,000 events", async () => {
    const store = t.app.services.store;
    const sizes: number[] = [];
    const writer = store.usageWriter;
    const insertMany = writer.insertMany.bind(writer);
    writer.insertMany = (batch: UsageEvent[]) => { sizes.push(batch.length); return insertMany(batch); };
    try {
      const recorder = new UsageRecorder(store, pino({ level: "silent" }), { intervalMs: 10_000 });
      await fillDisk();
      for (let i = 0; i < 4_500; i++) recorder.record(event(`req_backlog_${i}`));
      await recorder.flush();
      expect(recorder.writeHealth()).toBe("disk full (SQLITE_FULL)");
      await freeDisk();
      sizes.length = 0;
      await recorder.flush();
      recorder.stop();
      expect(sizes).toEqual([2_000, 2_000, 500]);
      expect(recorder.writeHealth()).toBe("ok");
    } finally {
      writer.insertMany = insertMany;
      await freeDisk();
    }
  });

  it("answers a management write on a full disk with a 503 that names it, and changes nothing", async () => {
    const logged = t.logs.length;
    await fillDisk();
    try {
      const names: string[] = [];
      for (let i = 0; i < 5; i++) {
        names.push(`full-${i}`);
        const r = await t.api("POST", "/api/v1/keys", { name: `full-${i}`, kind: "live", metadata: { pad: "y".repeat(3000) } });
        expect(r.status).toBe(503);
        expect(r.body.error.code).toBe("store_unavailable");
        expect(r.body.error.message).toMatch(/disk is full \(SQLITE_FULL\)/);
        expect(r.body.error.request_id).toMatch(/^req_/);
      }
      const lines = t.logs.slice(logged).join("");
      expect(lines).toMatch(/SQLITE_FULL/);
      expect(lines).not.toMatch(/cannot rollback/);
      await freeDisk();
      const keys = (await t.api("GET", "/api/v1/keys?limit=100")).body.data as { name: string }[];
      expect(keys.filter((k) => names.includes(k.name))).toEqual([]);
      expect((await t.api("POST", "/api/v1/keys", { name: "after-space-returns", kind: "live" })).status).toBe(201);
    } finally {
      await freeDisk();
    }
  });
});
