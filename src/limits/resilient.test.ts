import { describe, expect, it } from "vitest";
import { isDependencyFailure } from "../errors/index.js";
import { ManualClock } from "../lib/index.js";
import type { BudgetCounter } from "./budget.js";
import { DeferredSettles, ResilientBudgetCounter } from "./resilient.js";
import type { RedisHealth } from "./redis-health.js";

describe("ResilientBudgetCounter", () => {
  it("fails a counter load Redis does not answer as a dependency failure (a 503 with a record, never a 500)", async () => {
    const timedOut = () => Promise.reject(new Error("Command timed out"));
    const inner = { load: timedOut, loadBalance: timedOut, snapshot: timedOut } as unknown as BudgetCounter;
    const downs: unknown[] = [];
    const health = { state: "healthy", markDown: (err: unknown) => void downs.push(err) } as unknown as RedisHealth;
    const counter = new ResilientBudgetCounter(inner, health, new DeferredSettles(), "closed", new ManualClock(), 60_000);
    for (const call of [() => counter.load("key:k", "day", 0), () => counter.loadBalance("credits:o", 0), () => counter.snapshot("key:k", "day")]) {
      const err = await call().then(() => null, (e: unknown) => e);
      expect(err, "the call fails").not.toBeNull();
      expect(isDependencyFailure(err)).toBe(true);
      expect((err as Error).message).toMatch(/Redis did not answer: Command timed out/);
    }
    expect(downs).toHaveLength(3);
    expect(isDependencyFailure(new Error("Command timed out")), "the bare ioredis error is not recognised").toBe(false);
  });
});
