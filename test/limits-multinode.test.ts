/**
 * Several nodes on one Redis: each "node" is its own connection and its own limiter objects, all
 * hammering the same limits at once.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { systemClock } from "../src/lib/index.js";
import { RedisBudgetCounter, RedisRateLimiter } from "../src/limits/index.js";
import { REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

const redisOk = await redisAvailable();
const NODES = 4;

describe.skipIf(!redisOk)("limits across nodes", () => {
  const clients = Array.from({ length: NODES }, () => new Redis(REDIS_URL));
  const { prefix, cleanup } = redisPrefix();
  afterAll(async () => { await cleanup(); for (const c of clients) c.disconnect(); });

  it("100 requests per minute across 4 nodes: exactly 100 of 600 admitted", async () => {
    const nodes = clients.map((redis) => new RedisRateLimiter({ redis, prefix, clock: systemClock }));
    const subjects = [{ id: "key:shared", requestsPerMinute: 100 }, { id: "wrk:shared", requestsPerMinute: 1000 }];
    const ds = await Promise.all(Array.from({ length: 600 }, (_, i) => nodes[i % NODES]!.admit({ subjects, tokens: 0, requestId: `q${i}` })));
    expect(ds.filter((d) => d.admitted)).toHaveLength(100);
    expect(ds.filter((d) => !d.admitted).every((d) => d.refused?.subject === "key:shared" && d.refused.retryAfterSeconds > 0)).toBe(true);
  });

  it("a tokens-per-minute limit with concurrent bounds is never exceeded across nodes", async () => {
    const nodes = clients.map((redis) => new RedisRateLimiter({ redis, prefix, clock: systemClock }));
    const subjects = [{ id: "key:tok", tokensPerMinute: 10_000 }];
    const ds = await Promise.all(Array.from({ length: 200 }, (_, i) => nodes[i % NODES]!.admit({ subjects, tokens: 300 + (i % 7) * 50, requestId: `t${i}` })));
    const reserved = ds.filter((d) => d.admitted).reduce((sum, d) => sum + d.ticket!.tokens, 0);
    expect(reserved).toBeLessThanOrEqual(10_000);
    expect(reserved).toBeGreaterThan(10_000 - 600); // the smallest bound that was refused did not fit
  });

  it("a $1.00 spend limit across nodes: 500 reservations of $0.01, exactly 100 admitted", async () => {
    const nodes = clients.map((redis) => new RedisBudgetCounter({ redis, prefix, clock: systemClock }));
    const subject = { id: "key:spend", limitNano: 1_000_000_000, period: "day" as const };
    await nodes[0]!.load(subject.id, "day", 0);
    const rs = await Promise.all(Array.from({ length: 500 }, (_, i) => nodes[i % NODES]!.reserve({ subjects: [subject], amountNano: 10_000_000, requestId: `s${i}` })));
    const admitted = rs.flatMap((r) => (r.outcome === "admitted" ? [r.reservation] : []));
    expect(admitted).toHaveLength(100);
    await Promise.all(admitted.map((r, i) => nodes[(i + 1) % NODES]!.settle(r, 9_000_000)));
    expect(await nodes[2]!.snapshot(subject.id, "day")).toMatchObject({ spentNano: 900_000_000, openNano: 0 });
  });
});
