/**
 * The keep of Chat callers' signed thinking: shared by every node through Redis, scoped to the
 * organization, forgotten after an hour, bounded in memory.
 */
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { KEEP_TTL_MS, MemoryReasoningKeep, RedisReasoningKeep } from "../src/gateway/reasoning-keep.js";
import type { ThinkingPart } from "../src/providers/index.js";
import { REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

const block = (text: string): ThinkingPart => ({ type: "thinking", text, signature: Buffer.from(text).toString("base64"), origin: "anthropic" });
const redisOk = await redisAvailable();

describe("in memory", () => {
  it("gives a turn's blocks back under any of its call ids, to its organization alone, for an hour", async () => {
    let now = 1_000;
    const keep = new MemoryReasoningKeep(() => now);
    await keep.put("org_a", ["toolu_1", "toolu_2"], [block("why")]);
    expect(await keep.get("org_a", ["toolu_2", "toolu_1", "toolu_3"])).toEqual([[block("why")], [block("why")], null]);
    expect(await keep.get("org_b", ["toolu_1"])).toEqual([null]);
    now += KEEP_TTL_MS;
    expect(await keep.get("org_a", ["toolu_1"])).toEqual([null]);
  });

  it("forgets the oldest turns past its size", async () => {
    const keep = new MemoryReasoningKeep(() => 0, 400);
    for (let i = 0; i < 10; i++) await keep.put("org_a", [`toolu_${i}`], [block(`thought number ${i}`)]);
    const kept = await keep.get("org_a", Array.from({ length: 10 }, (_, i) => `toolu_${i}`));
    expect(kept[0]).toBeNull();
    expect(kept[9]).toEqual([block("thought number 9")]);
    expect(kept.filter(Boolean).length).toBeLessThan(10);
  });
});

describe.skipIf(!redisOk)("in Redis", () => {
  const { prefix, cleanup } = redisPrefix();
  const clients: Redis[] = [];
  afterAll(async () => {
    await cleanup();
    for (const c of clients) c.disconnect();
  });

  it("one node keeps, another restores; another organization gets nothing; the entry expires within the hour", async () => {
    const [a, b] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    clients.push(a, b);
    const nodeA = new RedisReasoningKeep(a, prefix, () => Date.now());
    const nodeB = new RedisReasoningKeep(b, prefix, () => Date.now());
    await nodeA.put("org_a", ["toolu_x"], [block("shared")]);
    expect(await nodeB.get("org_a", ["toolu_x"])).toEqual([[block("shared")]]);
    expect(await nodeB.get("org_b", ["toolu_x"])).toEqual([null]);
    const ttl = await a.pttl(`${prefix}thinking:org_a:toolu_x`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(KEEP_TTL_MS);
  });
});
