/**
 * Sign-in back-off instead of a lock: an address that keeps failing waits longer each time, an
 * account guessed at from elsewhere makes unfamiliar addresses wait, and neither keeps the real
 * user out from an address they signed in from before. With Redis the counts are shared, so two
 * nodes hold an attacker back as one.
 */
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { SignInBackoff } from "../src/admin/sign-in-backoff.js";
import { AuthFailureLimiter, MemoryFailureCounts, RedisFailureCounts } from "../src/keys/index.js";
import { REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

const OPTIONS = { free: 3, firstWaitMs: 10_000, maxAddressWaitMs: 600_000, maxAccountWaitMs: 120_000, forgetMs: 3600_000, familiarMs: 86_400_000 };
const USER = "ada@example.com";

describe("sign-in back-off in process", () => {
  it("lets a few failures through, then doubles the wait after each further one, up to the cap", async () => {
    const b = new SignInBackoff(new MemoryFailureCounts(), OPTIONS);
    let now = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(await b.waitMs(USER, "198.51.100.7", now)).toBe(0);
      await b.failed(USER, "198.51.100.7", now);
    }
    expect(await b.waitMs(USER, "198.51.100.7", now)).toBe(10_000);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      now += await b.waitMs(USER, "198.51.100.7", now);
      await b.failed(USER, "198.51.100.7", now);
      waits.push(await b.waitMs(USER, "198.51.100.7", now));
    }
    expect(waits).toEqual([20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000]);
    // The wait runs from the last failure; once it is over the next attempt may go ahead.
    expect(await b.waitMs(USER, "198.51.100.7", now + 599_000)).toBe(1_000);
    expect(await b.waitMs(USER, "198.51.100.7", now + 600_000)).toBe(0);
    // Forgotten an hour after the last failure.
    expect(await b.waitMs(USER, "198.51.100.7", now + 3600_000)).toBe(0);
  });

  it("does not keep the real user out from their usual address while an attacker's address is held back", async () => {
    const b = new SignInBackoff(new MemoryFailureCounts(), OPTIONS);
    const now = 5_000_000;
    await b.succeeded(USER, "192.0.2.10", now - 1000);
    for (let i = 0; i < 10; i++) await b.failed(USER, "203.0.113.66", now);
    expect(await b.waitMs(USER, "203.0.113.66", now)).toBeGreaterThan(0);
    expect(await b.waitMs(USER, "192.0.2.10", now)).toBe(0);
    // Another account from the attacker's address waits too: the address is what is held back.
    expect(await b.waitMs("bob@example.com", "203.0.113.66", now)).toBeGreaterThan(0);
  });

  it("holds back unfamiliar addresses when one account is guessed at from many, never the familiar one, and never for long", async () => {
    const b = new SignInBackoff(new MemoryFailureCounts(), OPTIONS);
    const now = 9_000_000;
    await b.succeeded(USER, "192.0.2.10", now - 1000);
    for (let i = 0; i < 40; i++) await b.failed(USER, `203.0.113.${i}`, now);
    // Each attacking address failed once: no address wait, but the account's wait applies to new addresses.
    expect(await b.waitMs(USER, "198.51.100.200", now)).toBe(120_000);
    expect(await b.waitMs(USER, "192.0.2.10", now)).toBe(0);
    expect(await b.waitMs("bob@example.com", "198.51.100.200", now)).toBe(0);
  });

  it("does not count the real user's own typos at their familiar address against the account", async () => {
    const b = new SignInBackoff(new MemoryFailureCounts(), OPTIONS);
    const now = 12_000_000;
    await b.succeeded(USER, "192.0.2.10", now - 1000);
    for (let i = 0; i < 3; i++) await b.failed(USER, "192.0.2.10", now);
    expect(await b.waitMs(USER, "198.51.100.1", now)).toBe(0);
  });
});

const redisOk = await redisAvailable();

describe.skipIf(!redisOk)("sign-in back-off shared through Redis", () => {
  const p = redisPrefix();
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await p.cleanup();
  });

  it("holds an attacker back on every node once their failures on any node add up", async () => {
    const node = () => {
      const r = new Redis(REDIS_URL);
      clients.push(r);
      return new SignInBackoff(new RedisFailureCounts(r, p.prefix), OPTIONS);
    };
    const a = node();
    const b = node();
    const now = Date.now();
    await a.succeeded(USER, "192.0.2.10", now);
    await a.failed(USER, "203.0.113.5", now);
    await b.failed(USER, "203.0.113.5", now);
    await a.failed(USER, "203.0.113.5", now);
    // Three failures split over two nodes: the fourth attempt waits on either.
    expect(await a.waitMs(USER, "203.0.113.5", now)).toBe(10_000);
    expect(await b.waitMs(USER, "203.0.113.5", now)).toBe(10_000);
    // The address the user signed in from on node a is familiar on node b too.
    expect(await b.waitMs(USER, "192.0.2.10", now)).toBe(0);
    // Nothing in Redis names the account's email.
    const keys = await clients[0]!.keys(`${p.prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(" ")).not.toContain("ada@");
  });

  it("limits an address's failed authentications across nodes (gateway and management API limiters)", async () => {
    const node = () => {
      const r = new Redis(REDIS_URL);
      clients.push(r);
      return new AuthFailureLimiter(10, 1000, new RedisFailureCounts(r, p.prefix));
    };
    const a = node();
    const b = node();
    const now = Math.floor(Date.now() / 60_000) * 60_000 + 1000;
    for (let i = 0; i < 5; i++) await a.recordFailureShared("203.0.113.77", now);
    for (let i = 0; i < 4; i++) await b.recordFailureShared("203.0.113.77", now);
    // Nine on the two nodes together: neither node holds the address back yet.
    expect(a.blockedFor("203.0.113.77", now)).toBe(0);
    expect(b.blockedFor("203.0.113.77", now)).toBe(0);
    await b.recordFailureShared("203.0.113.77", now);
    // Ten: node b, which alone saw five, holds it back until the minute ends; a learns on its next failure.
    expect(b.blockedFor("203.0.113.77", now)).toBe(59);
    await a.recordFailureShared("203.0.113.77", now);
    expect(a.blockedFor("203.0.113.77", now)).toBe(59);
    expect(a.blockedFor("198.51.100.1", now)).toBe(0);
  });

  it("falls back to counting on its own node when Redis cannot be reached", async () => {
    const dead = new Redis("redis://127.0.0.1:1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    dead.on("error", () => undefined);
    clients.push(dead);
    const b = new SignInBackoff(new RedisFailureCounts(dead, p.prefix), OPTIONS);
    const now = Date.now();
    for (let i = 0; i < 3; i++) await b.failed(USER, "203.0.113.9", now);
    expect(await b.waitMs(USER, "203.0.113.9", now)).toBe(10_000);
  });
});
