/**
 * A settle held through a Redis restart and replayed after the counter was reloaded from the usage
 * records: the reload counted it already, so the replay must not count it again (it did: the spend
 * counter ended above the records). Redis losing its state is simulated by deleting this suite's keys.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { ManualClock } from "../src/lib/index.js";
import { RedisBudgetCounter } from "../src/limits/index.js";
import { REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

const redisOk = await redisAvailable();

describe.skipIf(!redisOk)("settles replayed after a Redis restart", () => {
  const redis = new Redis(REDIS_URL);
  const { prefix, cleanup } = redisPrefix();
  afterAll(async () => { await cleanup(); redis.disconnect(); });
  const key = { id: "key:k1", limitNano: 10_000, period: "day" as const };

  it("leaves a counter loaded after the request's record was written alone, and charges one loaded before", async () => {
    const clock = new ManualClock();
    const budgets = new RedisBudgetCounter({ redis, prefix, clock });
    await budgets.load(key.id, "day", 100);
    const held = await budgets.reserve({ subjects: [key], amountNano: 400, requestId: "held" });
    const late = await budgets.reserve({ subjects: [key], amountNano: 400, requestId: "late" });
    if (held.outcome !== "admitted" || late.outcome !== "admitted") throw new Error("not admitted");
    const finishedAt = clock.now(); // "held" finished here, Redis unreachable: its settle waits in the process
    await cleanup(); // Redis restarts empty
    clock.advance(5_000);
    await budgets.load(key.id, "day", 100 + 250); // the day's records, "held"'s 250 among them
    expect(await budgets.settle(held.reservation, 250, finishedAt)).toBe("unknown_reservation");
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 350, openNano: 0 });
    // "late" finishes now: its record was not in the load, so its cost is added.
    expect(await budgets.settle(late.reservation, 30)).toBe("unknown_reservation");
    expect(await budgets.snapshot(key.id, "day")).toMatchObject({ spentNano: 380, openNano: 0 });
  });
});
