/**
 * Usage written and rolled up by its own thread on a SQLite file (WorkerUsageWriter): exactly once,
 * a thread that dies or hangs with a batch in flight loses nothing, and its roll-ups and credits
 * charges are the main thread's.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { UsageRecorder } from "../src/gateway/recorder.js";
import { ManualClock } from "../src/lib/index.js";
import { createStore, inTransaction, migrate, openDatabase, WorkerUsageWriter, type UsageEvent } from "../src/store/index.js";
import { UsageRollupJob } from "../src/usage/index.js";
import { backends, type TestBackend } from "./support/backends.js";
import { T0, openFixture, usageEvent, usd, type MeteringFixture } from "./metering-support.js";

const [sqlite] = await backends();
const quiet = pino({ level: "silent" });
const open: { f: MeteringFixture; backend: TestBackend }[] = [];

async function fixture(usageThread: boolean): Promise<{ f: MeteringFixture; backend: TestBackend; spool: string }> {
  const backend = await sqlite!.create();
  const f = await openFixture(backend, { usageThread });
  open.push({ f, backend });
  return { f, backend, spool: join(backend.dataDir, "usage-spool.jsonl") };
}

afterEach(async () => {
  for (const { f, backend } of open.splice(0)) {
    await f.database.close().catch(() => undefined);
    await backend.cleanup();
  }
});

/** Another connection holding the write lock, as a long transaction elsewhere would: the thread's write waits on it. */
function holdWriteLock(file: string): { release: () => void } {
  const other = new BetterSqlite3(file);
  other.exec("begin immediate");
  return { release: () => { other.exec("rollback"); other.close(); } };
}

const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter(Boolean).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("usage writer thread", () => {
  it("writes a batch once when it is sent twice, off the main thread", async () => {
    const { f } = await fixture(true);
    const batch = Array.from({ length: 900 }, () => usageEvent(f, {}));
    expect(await f.store.usageWriter.insertMany(batch)).toBe(900);
    expect(await f.store.usageWriter.insertMany([...batch.slice(0, 10), usageEvent(f, {})])).toBe(1);
    expect(await f.store.usage.count()).toBe(901);
    // Written and new rows mixed, many to a statement: only the new count, and all of them are there.
    const fresh = Array.from({ length: 70 }, () => usageEvent(f, {}));
    const mixed = fresh.flatMap((e, i) => [batch[i]!, e]);
    expect(await f.store.usageWriter.insertMany(mixed)).toBe(70);
    expect((await f.store.usage.costs(fresh.map((e) => e.id))).size).toBe(70);
    expect(await f.store.usage.count()).toBe(971);
    expect(f.store.usageWriter.stats()).toMatchObject({ rows: 1051, batches: 3, mainThread: false });
  });

  it("a thread that dies with a batch in flight: the batch is spooled, readiness says why, a new thread writes it once", async () => {
    const { f, backend, spool } = await fixture(true);
    const writer = f.store.usageWriter as WorkerUsageWriter;
    const r = new UsageRecorder(f.store, quiet, { spoolFile: spool, intervalMs: 60_000 });
    r.record(usageEvent(f, {}));
    await r.flush();
    const first = writer.thread;
    expect(first).not.toBeNull();

    const events: UsageEvent[] = Array.from({ length: 500 }, () => usageEvent(f, {}));
    const lock = holdWriteLock(backend.url);
    for (const e of events) r.record(e);
    const flushing = r.flush();
    await sleep(200); // the batch is posted and the thread waits for the lock, inside its transaction
    const ended = first!.terminate();
    lock.release();
    await Promise.all([flushing, ended]);
    expect(r.writeHealth()).toBe("failing (USAGE_THREAD_EXITED)");
    expect(lines(spool)).toBe(500);

    await r.flush(); // past the backoff: the spool is replayed through a new thread
    r.stop();
    expect(r.writeHealth()).toBe("ok");
    expect(existsSync(spool)).toBe(false);
    expect(writer.thread).not.toBeNull();
    expect(writer.thread).not.toBe(first);
    expect(await f.store.usage.count()).toBe(501);
  }, 30_000);

  it("a thread that does not answer in time is ended and started again; the batch is spooled and written once", async () => {
    const { f, backend, spool } = await fixture(false);
    const logged: string[] = [];
    const writer = new WorkerUsageWriter({ file: backend.url, statementTimeoutMs: 1000, usage: f.store.usage, logger: { error: (_o: unknown, m: string) => logged.push(m), info: () => undefined } as never });
    const store = { ...f.store, usageWriter: writer };
    const r = new UsageRecorder(store, quiet, { spoolFile: spool, intervalMs: 60_000 });
    const lock = holdWriteLock(backend.url);
    for (let i = 0; i < 300; i++) r.record(usageEvent(f, {}));
    await r.flush(); // answered by the 2 s limit (twice the statement timeout), not by the thread: its wait for the lock is 5 s
    lock.release();
    expect(r.writeHealth()).toBe("failing (USAGE_THREAD_TIMEOUT)");
    expect(logged.some((m) => m.includes("did not answer in time"))).toBe(true);
    expect(lines(spool)).toBe(300);

    await r.flush();
    r.stop();
    expect(r.writeHealth()).toBe("ok");
    expect(await f.store.usage.count()).toBe(300);
    await writer.close();
  }, 30_000);

  it("rolls up and charges credits exactly as the main thread does", async () => {
    const rolled = async (usageThread: boolean) => {
      const { f } = await fixture(usageThread);
      const clock = new ManualClock(T0 + 3 * 86_400_000);
      await f.store.credits.updateSettings(f.orgId, { enabledAt: T0 + 1000 }, T0);
      const events: UsageEvent[] = [];
      for (let i = 0; i < 240; i++) {
        events.push(usageEvent(f, {
          id: `req_same_${String(i).padStart(4, "0")}`, at: T0 + i * 600_000, keyId: i % 3 ? "key_a" : "key_b", workspaceId: f.ws[i % 2],
          model: i % 4 ? "claude-sonnet-4-5" : "claude-haiku-4-5", costNano: i % 7 ? usd(0.01) + i : 0, status: i % 11 ? 200 : 500,
          deployment: i % 5 ? "cred_a" : null,
        }));
      }
      // Written by the store's usage writer, in batches of 60, then rolled up in passes of 7.
      for (let i = 0; i < events.length; i += 60) await f.store.usageWriter.insertMany(events.slice(i, i + 60));
      expect(await new UsageRollupJob({ store: f.store, clock, retentionDays: 90, batchSize: 7 }).runOnce()).toBe(240);
      const names = (s: string) => s.replace(f.orgId, "org").replace(f.ws[0], "ws0").replace(f.ws[1], "ws1");
      const rollups = (await f.database.db.selectFrom("usage_rollups").selectAll().execute())
        .map((row) => ({ ...row, org_id: names(row.org_id), workspace_id: names(row.workspace_id) }))
        .map((row) => [Object.values(row).join("|"), row] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
      const ledger = (await f.store.credits.listLedger(f.orgId, 1000)).map((e) => [e.kind, e.amount_nano, e.balance_after_nano, e.note]);
      return { rollups, ledger, writer: f.store.usageWriter.stats() };
    };
    const inline = await rolled(false);
    const thread = await rolled(true);
    expect(thread.writer).toMatchObject({ mainThread: false, rollups: 35 });
    expect(inline.writer.mainThread).toBe(true);
    expect(inline.rollups.length).toBeGreaterThan(10);
    expect(inline.ledger.length).toBe(35); // one charge a pass: every pass of 7 holds priced usage after credits were enabled
    expect(thread.rollups).toEqual(inline.rollups);
    expect(thread.ledger).toEqual(inline.ledger);
  }, 60_000);
});

// The app's choice (main.ts): a SQLite file gets the thread; the store's own writer otherwise.
describe("usage writer choice", () => {
  it("records keys' last use on the thread: the main thread runs on while another connection holds the write lock", async () => {
    const { f, backend } = await fixture(true);
    const key = {
      id: "key_touched", orgId: f.orgId, workspaceId: f.ws[0], name: "k", kind: "live" as const, keyHash: "h_touched", hint: "lk_live_abcd…wxyz",
      scopes: ["*"], allowedModels: null, ipAllowlist: null, allowedOrigins: null, rateLimits: null, spendLimit: null, metadata: {},
      status: "active" as const, expiresAt: null, createdAt: 1, createdBy: "system", updatedAt: 1, lastUsedAt: null, revokedAt: null, rolledFrom: null,
    };
    await f.store.keys.insert(key);
    const lock = holdWriteLock(backend.url);
    let settled = false;
    const touching = f.store.usageWriter.touchKeys(new Map([[key.id, 1_234]])).finally(() => (settled = true));
    // On the main connection this write would wait for the lock inside better-sqlite3, holding the
    // event loop: no timer would run until the lock was released or the busy timeout ran out.
    await sleep(100);
    expect(settled).toBe(false);
    lock.release();
    await touching;
    expect((await f.store.keys.getById(key.id))!.lastUsedAt).toBe(1_234);
    // Never backwards: an older time leaves the newer one.
    await f.store.usageWriter.touchKeys(new Map([[key.id, 1_000]]));
    expect((await f.store.keys.getById(key.id))!.lastUsedAt).toBe(1_234);
  });

  it("a write on the main connection waits for the write lock without holding the event loop, then writes", async () => {
    const { f, backend } = await fixture(true);
    const lock = holdWriteLock(backend.url);
    const settled: string[] = [];
    const autocommit = f.store.kv.set("plain", "1").then(() => settled.push("autocommit"));
    const transaction = inTransaction(f.database, async () => {
      await f.store.kv.set("in-transaction", "2");
    }).then(() => settled.push("transaction"));
    // SQLite's own busy wait would sleep in this thread: no timer would fire until the lock was released.
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 5);
    await sleep(150);
    clearInterval(ticking);
    expect(ticks).toBeGreaterThan(10);
    expect(settled).toEqual([]);
    lock.release();
    await Promise.all([autocommit, transaction]);
    expect(await f.store.kv.get("plain")).toBe("1");
    expect(await f.store.kv.get("in-transaction")).toBe("2");
  });

  it("a write kept from the lock past its wait fails with SQLITE_BUSY, as after SQLite's own wait, and writes once the lock is free", async () => {
    const { backend } = await fixture(true);
    const short = openDatabase({ url: backend.url, lockWaitMs: 200 });
    try {
      const kv = createStore(short).kv;
      const lock = holdWriteLock(backend.url);
      const started = performance.now();
      await expect(kv.set("k", "v")).rejects.toMatchObject({ code: "SQLITE_BUSY" });
      await expect(inTransaction(short, () => kv.set("k", "v"))).rejects.toMatchObject({ code: "SQLITE_BUSY" });
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(2 * 180);
      expect(waited).toBeLessThan(2_000);
      lock.release();
      await kv.set("k", "v");
      expect(await kv.get("k")).toBe("v");
    } finally {
      await short.close();
    }
  });

  it("a main-thread write waits for the thread's current roll-up pass, not for the whole roll-up", async () => {
    const { f } = await fixture(true);
    for (let i = 0; i < 8; i++) await f.store.usageWriter.insertMany(Array.from({ length: 5_000 }, () => usageEvent(f, {})));
    // 8 passes of 5,000 events (the roll-up job's), each sent when the last one answers.
    let passes = 0;
    const rolling = (async () => {
      for (let n = -1; n !== 0; passes++) n = await f.store.usageWriter.rollUp(T0 + 1, 5_000);
    })();
    while (passes === 0) await sleep(1);
    let passesBeforeWrite = -1;
    await f.store.kv.set("between passes", "1").then(() => (passesBeforeWrite = passes));
    await rolling;
    if (process.env.SHOW) console.log("PASSES", passesBeforeWrite);
    expect(passes).toBe(9);
    // Sent as soon as the thread answers, the next pass would take the lock before the write's next
    // try, pass after pass: the write would wait for the roll-up's end.
    expect(passesBeforeWrite).toBeLessThanOrEqual(2);
    expect(await f.store.kv.get("between passes")).toBe("1");
  });

  it("takes over the main connection's WAL checkpoints: main-thread commits never run one, the thread's timer does", async () => {
    const backend = await sqlite!.create();
    const database = openDatabase({ url: backend.url });
    const main = database.sqlite!;
    let writer: WorkerUsageWriter | null = null;
    try {
      await migrate(database);
      const store = createStore(database, {
        usageWriter: ({ usage }) => (writer = new WorkerUsageWriter({
          file: backend.url, statementTimeoutMs: 5_000, usage, logger: quiet, mainConnection: main, checkpointEveryMs: 50,
        })),
      });
      expect(main.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
      // The thread up (its modules take a while to load on a busy machine) and the migrations checkpointed.
      await writer!.checkpoint();
      // 3,000 pages written by the main connection alone, 200 at a time, the timer running between.
      const page = "x".repeat(4_000);
      for (let round = 0; round < 15; round++) {
        await inTransaction(database, async () => {
          for (let i = 0; i < 200; i++) await store.kv.set(`k${round}-${i}`, page);
        });
        await sleep(120);
      }
      // Checkpointed behind the writes, the WAL is started again from its beginning: it never held
      // the 3,000 pages at once. With no checkpoint at all (the main connection's turned off, no timer) it would.
      const walPages = statSync(`${backend.url}-wal`).size / 4_096;
      expect(walPages).toBeGreaterThan(200);
      expect(walPages).toBeLessThan(1_500);
      const last = await writer!.checkpoint();
      expect(last.checkpointed).toBe(last.log);
      await store.usageWriter.close();
      // Without the thread, the main connection checkpoints for itself again.
      expect(main.pragma("wal_autocheckpoint", { simple: true })).toBe(1_000);
    } finally {
      await database.close();
      await backend.cleanup();
    }
  });

  it("a store built without a writer writes on its own connection", async () => {
    const { f } = await fixture(false);
    expect(createStore(f.database).usageWriter.stats().mainThread).toBe(true);
  });
});
