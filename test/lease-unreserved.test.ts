/**
 * A durable lease is written before its request's reservation is tried. A process killed between
 * the two, or before it read a refusal, leaves a lease whose request never left: the lease rule
 * charged it all the same, by the database sweep or from the reservation a reload made of it
 * after a Redis restart, and counted a request that cost nothing past the limit that refused it
 * (the chaos run on PostgreSQL + Redis ended with credits overspent this way). Such leases are now
 * dropped uncharged when the counters vouch that no reservation was made, and charged as before
 * when they cannot.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DurableLeases } from "../src/gateway/index.js";
import { ManualClock } from "../src/lib/index.js";
import { RedisBudgetCounter, type BudgetSubject } from "../src/limits/index.js";
import { createStore, migrate, openDatabase, type BudgetLeaseRow, type Store } from "../src/store/index.js";
import { REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

const redisOk = await redisAvailable();
const LEASE_MS = 1_000;

describe.skipIf(!redisOk)("leases of requests that never reserved", () => {
  const redis = new Redis(REDIS_URL);
  const { prefix, cleanup } = redisPrefix();
  const dir = mkdtempSync(join(tmpdir(), "latchkey-leases-"));
  afterAll(async () => {
    await cleanup();
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });
  const key: BudgetSubject = { id: "key:k1", limitNano: 1_000, period: "total" };
  const credits: BudgetSubject = { id: "credits:org_1", limitNano: 0, period: "balance" };
  let store: Store;
  let clock: ManualClock;
  let budgets: RedisBudgetCounter;

  beforeEach(async () => {
    await cleanup();
    const database = openDatabase({ url: ":memory:" });
    await migrate(database);
    store = createStore(database);
    clock = new ManualClock();
    budgets = new RedisBudgetCounter({ redis, prefix, clock, defaultLeaseMs: LEASE_MS });
    await budgets.load(key.id, "total", 0, { tag: "org_1" });
    await budgets.loadBalance(credits.id, 1_000, { tag: "org_1" });
  });

  /** The lease a node writes before it tries the reservation. */
  function lease(id: string, holder: string, amountNano: number): BudgetLeaseRow {
    const now = clock.now();
    return {
      id, org_id: "org_1", workspace_id: "wrk_1", key_id: "k1", provider: "anthropic", model: "m", endpoint: "messages", holder, amount_nano: amountNano,
      counters: JSON.stringify([[key.id, "t"], [credits.id, "b"]]), owner: "key:k1 wrk:wrk_1 org:org_1", reserved_at: now, expires_at: now + LEASE_MS,
    };
  }

  async function records(): Promise<Record<string, number>> {
    const rows = await store.database.db.selectFrom("usage_events").select(["id", "cost_nano"]).execute();
    return Object.fromEntries(rows.map((r) => [r.id, Number(r.cost_nano)]));
  }

  const openLeases = async () => (await store.database.db.selectFrom("budget_leases").select("id").orderBy("id").execute()).map((r) => r.id);

  it("the sweep charges a dead node's admitted request, and drops the ones it never reserved or was refused", async () => {
    await store.leases.heartbeat("node_dead", clock.now());
    // The dead node: "admitted" reserved 600; "refused" asked 700 of the 400 left and was refused;
    // "unsent" was killed between its lease and its reservation.
    await store.leases.insertMany([lease("admitted", "node_dead", 600), lease("refused", "node_dead", 700), lease("unsent", "node_dead", 500)]);
    expect((await budgets.reserve({ subjects: [key, credits], amountNano: 600, requestId: "admitted", tag: "org_1" })).outcome).toBe("admitted");
    expect((await budgets.reserve({ subjects: [key, credits], amountNano: 700, requestId: "refused", tag: "org_1" })).outcome).toBe("refused");

    const live = new DurableLeases(store, pino({ level: "silent" }), 1_000, 500);
    live.checkWith(budgets);
    const t0 = clock.now();
    expect(await live.sweep(t0)).toEqual([]); // its own first sign of life
    clock.advance(LEASE_MS + 1_000);
    const charged = await live.sweep(clock.now());
    expect(charged.map((e) => [e.id, e.costNano])).toEqual([["admitted", 600]]);
    expect(await records()).toEqual({ admitted: 600 });
    expect(await openLeases()).toEqual([]);
    // Redis charges the same reservation by its own lease rule: the counters end at the records.
    expect((await budgets.sweep()).map((x) => x.requestId)).toEqual(["admitted"]);
    expect(await budgets.snapshot(key.id, "total")).toMatchObject({ spentNano: 600, openNano: 0 });
    expect(await budgets.snapshot(credits.id, "balance")).toMatchObject({ spentNano: 600, openNano: 0, limitNano: 1_000 });
  });

  it("still charges a lease the counters cannot vouch for: Redis lost its state and no counter is loaded again", async () => {
    await store.leases.heartbeat("node_dead", clock.now());
    await store.leases.insertMany([lease("lost", "node_dead", 300)]);
    expect((await budgets.reserve({ subjects: [key, credits], amountNano: 300, requestId: "lost", tag: "org_1" })).outcome).toBe("admitted");
    await cleanup(); // Redis restarts empty
    const live = new DurableLeases(store, pino({ level: "silent" }), 1_000, 500);
    live.checkWith(budgets);
    await live.sweep(clock.now());
    clock.advance(LEASE_MS + 1_000);
    expect((await live.sweep(clock.now())).map((e) => [e.id, e.costNano])).toEqual([["lost", 300]]);
    expect(await records()).toEqual({ lost: 300 });
  });

  it("a lease that landed after its request's record is not read as open by a counter load", async () => {
    const live = new DurableLeases(store, pino({ level: "silent" }), 1_000, 500);
    const slow = lease("slow", live.holder, 300);
    await store.usage.insertMany([{
      id: "slow", at: clock.now(), orgId: "org_1", workspaceId: "wrk_1", keyId: "k1", provider: "anthropic", model: "m", endpoint: "messages", inputTokens: 1,
      outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: 120, status: 200, errorCode: null, streamed: false, aborted: false, latencyMs: 5, ttfbMs: 5,
    }]);
    await store.leases.insertMany([slow, lease("open", live.holder, 200)]); // the first write was slow: it lands after the record
    expect((await live.open(key.id, "t")).map((l) => l.requestId)).toEqual(["open"]);
    expect((await live.open(credits.id, "b")).map((l) => l.requestId)).toEqual(["open"]);
  });

  it("a node back on its data directory drops at once what its previous run never reserved, and leaves the rest to the lease rule", async () => {
    const file = join(dir, "lease-holder");
    writeFileSync(file, "node_before\n");
    await store.leases.insertMany([lease("inflight", "node_before", 400), lease("unsent", "node_before", 500)]);
    expect((await budgets.reserve({ subjects: [key, credits], amountNano: 400, requestId: "inflight", tag: "org_1" })).outcome).toBe("admitted");

    const back = new DurableLeases(store, pino({ level: "silent" }), 1_000, 500);
    back.checkWith(budgets);
    expect(await back.takeOver(file)).toBe(1);
    expect(readFileSync(file, "utf8").trim()).toBe(back.holder);
    expect(await openLeases()).toEqual(["inflight"]);
    // A Redis restart now cannot make a reservation of the dropped lease again and charge it.
    await cleanup();
    const leases = await back.open(key.id, "t");
    expect(leases.map((l) => l.requestId)).toEqual(["inflight"]);
    await budgets.load(key.id, "total", 0, { tag: "org_1", leases });
    expect(await budgets.snapshot(key.id, "total")).toMatchObject({ spentNano: 0, openNano: 400 });
    expect(await records()).toEqual({});
  });
});
