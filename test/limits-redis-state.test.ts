/**
 * Redis losing the limits' state (a restart without persistence, an eviction): the counters say
 * "needs load" instead of admitting against zero, and in-flight requests settle onto the reloaded
 * counters. Simulated by deleting this suite's keys only.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { ManualClock } from "../src/lib/index.js";
import { RedisBudgetCounter, RedisRateLimiter } from "../src/limits/index.js";
import { REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

const redisOk = await redisAvailable();

describe.skipIf(!redisOk)("Redis lost the limits' state", () => {
  const redis = new Redis(REDIS_URL);
  const { prefix, cleanup } = redisPrefix();
  afterAll(async () => { await cleanup(); redis.disconnect(); });

  it("asks for a load, keeps the reloaded spend, and charges a request in flight (its durable lease) once", async () => {
    const clock = new ManualClock();
    const budgets = new RedisBudgetCounter({ redis, prefix, clock });
    const key = { id: "key:k1", limitNano: 1000, period: "day" as const };
    await budgets.load(key.id, "day", 100);
    const r = await budgets.reserve({ subjects: [key], amountNano: 400, requestId: "r1" });
    expect(r.outcome).toBe("admitted");
    if (r.outcome !== "admitted") return;

    await cleanup(); // everything under the prefix is gone
    expect(await budgets.reserve({ subjects: [key], amountNano: 1, requestId: "r2" })).toEqual({ outcome: "needs_load", subjects: [{ id: key.id, period: "day" }] });
    // The database's sum for the day, and r1's lease, still open: its reservation is made again.
    const lease = { requestId: "r1", amountNano: 400, reservedAt: r.reservation.reservedAt, expiresAt: r.reservation.expiresAt };
    await budgets.load(key.id, "day", 100, { leases: [lease] });
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 100, openNano: 400 });
    expect(await budgets.settle(r.reservation, 250)).toBe("settled");
    expect(await budgets.settle(r.reservation, 250)).toBe("already_settled");
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 350, openNano: 0 });
    expect((await redis.keys(`${prefix}*`)).length).toBeGreaterThan(0);
    for (const k of await redis.keys(`${prefix}*`)) expect(await redis.pttl(k)).toBeGreaterThan(0); // nothing lives forever
  });

  it("with cluster tags, a request's keys share a slot and a dead node's leases are found by another node", async () => {
    const clock = new ManualClock();
    const nodeA = new RedisBudgetCounter({ redis, prefix: `${prefix}ct:`, clock, clusterTags: true });
    const key = { id: "key:k9", limitNano: 1000, period: "month" as const };
    await nodeA.load(key.id, "month", 0, { tag: "org_a" });
    const r = await nodeA.reserve({ subjects: [key], amountNano: 70, requestId: "req_dead", tag: "org_a", leaseMs: 1000 });
    expect(r.outcome).toBe("admitted");
    const keys = await redis.keys(`${prefix}ct:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k.startsWith(`${prefix}ct:{org_a}:`)).toBe(true);
    // node A dies; node B never served org_a but learns the tag from Redis
    clock.advance(1000);
    const nodeB = new RedisBudgetCounter({ redis, prefix: `${prefix}ct:`, clock, clusterTags: true });
    const reports = await nodeB.sweep();
    expect(reports.map((e) => [e.requestId, e.amountNano])).toEqual([["req_dead", 70]]);
    expect(await nodeB.snapshot(key.id, "month", "org_a")).toMatchObject({ spentNano: 70, openNano: 0 });
    expect(await nodeA.sweep()).toEqual([]);
  });

  it("keeps only the state of a settled or expired reservation, for a while", async () => {
    const clock = new ManualClock();
    const budgets = new RedisBudgetCounter({ redis, prefix: `${prefix}sl:`, clock });
    const key = { id: "key:k3", limitNano: 10_000, period: "day" as const };
    await budgets.load(key.id, "day", 0);
    const settled = await budgets.reserve({ subjects: [key], amountNano: 400, requestId: "s1" });
    const expiring = await budgets.reserve({ subjects: [key], amountNano: 300, requestId: "s2", leaseMs: 1000 });
    if (settled.outcome !== "admitted" || expiring.outcome !== "admitted") throw new Error("not admitted");
    const record = (id: string) => redis.hgetall(`${prefix}sl:{lk}:res:${id}`);
    expect(Object.keys(await record("s1")).sort()).toEqual(["amt", "at", "exp", "k", "st"]);
    expect(await budgets.settle(settled.reservation, 250)).toBe("settled");
    clock.advance(1000);
    expect((await budgets.sweep()).map((e) => e.requestId)).toEqual(["s2"]);
    expect(await record("s1")).toEqual({ st: "1" });
    expect(await record("s2")).toEqual({ st: "2", x: `${prefix}sl:{lk}:b:${key.id}:${expiring.reservation.periodKeys[0]}` });
    // What is left still answers a repeated settle, and the counter is right.
    expect(await budgets.settle(settled.reservation, 250)).toBe("already_settled");
    expect(await budgets.settle(expiring.reservation, 100)).toBe("lease_expired");
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 550, openNano: 0 });
    for (const id of ["s1", "s2"]) expect(await redis.pttl(`${prefix}sl:{lk}:res:${id}`)).toBeGreaterThan(0);
  });

  it("every rate-limit key expires by itself", async () => {
    const rate = new RedisRateLimiter({ redis, prefix: `${prefix}rl:`, clock: new ManualClock() });
    const d = await rate.admit({ subjects: [{ id: "key:k2", requestsPerMinute: 5, tokensPerMinute: 100, concurrentRequests: 2 }], tokens: 10, requestId: "q1", leaseMs: 30_000 });
    expect(d.admitted).toBe(true);
    const keys = await redis.keys(`${prefix}rl:*`);
    expect(keys).toHaveLength(3);
    for (const k of keys) {
      const ttl = await redis.pttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(61_000);
    }
  });
});
