/**
 * The failure policy against a Redis that does not answer: a client pointed at a dead port, a
 * client whose own connection is killed (CLIENT KILL ID <its own id>) and must come back by
 * itself, and a client whose connection hangs (a frozen TCP proxy). The shared Redis server is
 * never stopped or paused.
 */
import { once } from "node:events";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { ManualClock } from "../src/lib/index.js";
import { createLimits, createLimitsRedis, creditSubject, type Limits, type LimitsOptions } from "../src/limits/index.js";
import { readUntil } from "./support/gateway-harness.js";
import { REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";
import { TcpProxy } from "./support/tcp-proxy.js";

const redisOk = await redisAvailable();
const opened: { limits: Limits; redis: Redis }[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const o of opened) { o.limits.close(); o.redis.disconnect(); }
  for (const c of cleanups) await c();
});

function capture() {
  const lines: string[] = [];
  return { lines, logger: { warn: (_: object, m: string) => void lines.push(`warn ${m}`), info: (_: object, m: string) => void lines.push(`info ${m}`) } };
}

function deadLimits(extra: Partial<LimitsOptions> = {}) {
  const redis = createLimitsRedis("redis://127.0.0.1:1");
  const log = capture();
  const limits = createLimits({ redis, clock: new ManualClock(), nodeCount: 2, logger: log.logger, sweepIntervalMs: 0, ...extra });
  opened.push({ limits, redis });
  return { limits, log };
}

describe("limits when Redis is unreachable (dead port)", () => {
  it("spend limits and credits fail closed with a distinct outcome; rate limits fall back to limit/N per node", async () => {
    const { limits, log } = deadLimits();
    const subjects = [{ id: "key:k1", limitNano: 100, period: "day" as const }, creditSubject("org_1")];
    expect(await limits.budgets.reserve({ subjects, amountNano: 1, requestId: "r0" })).toEqual({ outcome: "unavailable" });
    expect(limits.health()).toBe("degraded");
    expect(await limits.credits.reserve({ organizationId: "org_1", amountNano: 1, requestId: "r1" })).toEqual({ outcome: "unavailable" });
    let admitted = 0;
    for (let i = 0; i < 20; i++) {
      const d = await limits.rate.admit({ subjects: [{ id: "key:k1", requestsPerMinute: 10 }], tokens: 0, requestId: `q${i}` });
      if (d.admitted) { admitted++; expect(d.ticket?.local).toBe(true); }
      else expect(d.refused).toMatchObject({ reason: "limit", kind: "requests", limit: 5 });
    }
    expect(admitted).toBe(5); // 10 per minute over 2 nodes
    expect(log.lines).toEqual(["warn limits: Redis unreachable, following the failure policy"]);
  });

  it("the open and closed variants do what they say", async () => {
    const open = deadLimits({ failure: { spend: "open", rate: "open" } }).limits;
    const r = await open.budgets.reserve({ subjects: [{ id: "key:k", limitNano: 1, period: "total" }], amountNano: 50, requestId: "r" });
    expect(r).toMatchObject({ outcome: "admitted", reservation: { local: true, amountNano: 50, periodKeys: ["t"] } });
    expect((await open.rate.admit({ subjects: [{ id: "key:k", requestsPerMinute: 1 }], tokens: 0, requestId: "a" })).admitted).toBe(true);
    expect((await open.rate.admit({ subjects: [{ id: "key:k", requestsPerMinute: 1 }], tokens: 0, requestId: "b" })).admitted).toBe(true);
    const closed = deadLimits({ failure: { rate: "closed" } }).limits;
    const d = await closed.rate.admit({ subjects: [{ id: "key:k", requestsPerMinute: 100 }], tokens: 0, requestId: "a" });
    expect(d.admitted).toBe(false);
    expect(d.refused).toMatchObject({ reason: "unavailable" });
  });
});

describe.skipIf(!redisOk)("limits when the connection drops and comes back", () => {
  it("degrades, defers settles, recovers by itself and replays them exactly once", async () => {
    const { prefix, cleanup } = redisPrefix();
    cleanups.push(cleanup);
    const redis = createLimitsRedis(REDIS_URL, { retryStrategy: () => 400 });
    await once(redis, "ready");
    const log = capture();
    const clock = new ManualClock();
    const limits = createLimits({ redis, prefix, clock, logger: log.logger, sweepIntervalMs: 0 });
    opened.push({ limits, redis });
    const subject = { id: "key:k1", limitNano: 1000, period: "day" as const };
    await limits.budgets.load(subject.id, "day", 0);
    const first = await limits.budgets.reserve({ subjects: [subject], amountNano: 300, requestId: "r1" });
    if (first.outcome !== "admitted") throw new Error(first.outcome);

    const admin = new Redis(REDIS_URL);
    const myId = (await redis.client("ID")) as number;
    const closed = once(redis, "close");
    await admin.client("KILL", "ID", String(myId));
    await closed;
    admin.disconnect();

    expect(await limits.budgets.reserve({ subjects: [subject], amountNano: 1, requestId: "r2" })).toEqual({ outcome: "unavailable" });
    expect(limits.health()).toBe("degraded");
    expect(await limits.budgets.settle(first.reservation, 200)).toBe("deferred");
    expect(await limits.budgets.settle(first.reservation, 200)).toBe("deferred"); // replayed twice, counted once

    const deadline = Date.now() + 5000;
    while (limits.health() !== "healthy" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(limits.health()).toBe("healthy");
    // The replay hook runs on after health turns back: read until it has settled (or 5 s pass).
    const snap = await readUntil(() => limits.budgets.snapshot(subject.id, "day"), (s) => s?.spentNano === 200 && s.openNano === 0, 5000);
    expect(snap).toMatchObject({ spentNano: 200, openNano: 0 });
    expect((await limits.budgets.reserve({ subjects: [subject], amountNano: 800, requestId: "r3" })).outcome).toBe("admitted");
    expect(log.lines).toEqual([
      "warn limits: Redis unreachable, following the failure policy",
      "info limits: Redis answers again, back to shared counters",
    ]);
  });

  it("a Redis reply error is a fault, not an outage: it is thrown and the limits stay healthy", async () => {
    const { prefix, cleanup } = redisPrefix();
    cleanups.push(cleanup);
    const redis = createLimitsRedis(REDIS_URL);
    await once(redis, "ready");
    const limits = createLimits({ redis, prefix, clock: new ManualClock(), sweepIntervalMs: 0 });
    opened.push({ limits, redis });
    await redis.set(`${prefix}{lk}:b:key:broken:t`, "not a hash");
    await expect(limits.budgets.reserve({ subjects: [{ id: "key:broken", limitNano: 1, period: "total" }], amountNano: 1, requestId: "x" })).rejects.toThrow(/WRONGTYPE/);
    expect(limits.health()).toBe("healthy");
  });
});

describe.skipIf(!redisOk)("limits when Redis hangs (connected, no answer)", () => {
  it("follow the policy after a second, and give back what the unanswered commands took once they run", async () => {
    const { prefix, cleanup } = redisPrefix();
    cleanups.push(cleanup);
    const target = new URL(REDIS_URL);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const redis = createLimitsRedis(`redis://127.0.0.1:${proxy.port}`);
    await once(redis, "ready");
    const log = capture();
    const limits = createLimits({ redis, prefix, clock: new ManualClock(), nodeCount: 2, logger: log.logger, sweepIntervalMs: 0 });
    opened.push({ limits, redis });
    const direct = createLimitsRedis(REDIS_URL);
    cleanups.push(async () => direct.disconnect());
    const budget = { subjects: [{ id: "key:hung", limitNano: 1_000, period: "total" as const }], amountNano: 10, requestId: "held-reserve" };
    await limits.budgets.load("key:hung", "total", 0);

    proxy.freeze();
    const subjects = [{ id: "key:hung", requestsPerMinute: 100, concurrentRequests: 4 }];
    const [d, reserved] = await Promise.all([limits.rate.admit({ subjects, tokens: 0, requestId: "held-admit" }), limits.budgets.reserve(budget)]);
    // No answer in time: the fallback decided (this node's share), and spend failed closed.
    expect(d.admitted).toBe(true);
    expect(d.ticket?.local).toBe(true);
    expect(reserved.outcome).toBe("unavailable");
    expect(limits.health()).toBe("degraded");
    proxy.thaw();

    // The held commands ran once Redis had them: the admit counted, the reservation was made...
    const rate = `${prefix}{lk}:r:key:hung:`;
    expect(await readUntil(() => direct.zscore(`${rate}l`, "held-admit"), (s) => s !== null)).not.toBeNull();
    await readUntil(async () => limits.health(), (h) => h === "healthy");
    // ...and what they took is given back: no slot held until its lease, no reservation to charge.
    expect(await readUntil(() => direct.zcard(`${rate}c`), (n) => n === 0)).toBe(0);
    expect(await readUntil(() => direct.hget(`${prefix}{lk}:res:held-reserve`, "st"), (st) => st === "1")).toBe("1");
    expect(await direct.zscore(`${prefix}{lk}:leases`, "held-reserve")).toBeNull();
  }, 30_000);
});
