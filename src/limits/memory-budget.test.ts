import { describe, expect, it } from "vitest";
import { ManualClock } from "../lib/index.js";
import { SETTLED_MEMORY_MS } from "./budget.js";
import { MemoryBudgetCounter } from "./memory-budget.js";

describe("MemoryBudgetCounter housekeeping", () => {
  it("keeps nothing per request once settled, and a settle repeated on the same reservation counts once", async () => {
    const clock = new ManualClock();
    const budgets = new MemoryBudgetCounter({ clock });
    const subject = { id: "key:a", limitNano: 1_000_000, period: "total" as const };
    await budgets.load(subject.id, "total", 0);
    const rs = [];
    for (let i = 0; i < 3000; i++) {
      const r = await budgets.reserve({ subjects: [subject], amountNano: 10, requestId: `r${i}` });
      if (r.outcome !== "admitted") throw new Error(r.outcome);
      rs.push(r.reservation);
      expect(budgets.trackedRequests).toBe(1);
      await budgets.settle(r.reservation, 5);
      expect(budgets.trackedRequests).toBe(0);
    }
    clock.advance(SETTLED_MEMORY_MS * 10);
    await budgets.sweep();
    expect(await budgets.settle(rs[0]!, 5)).toBe("already_settled");
    expect(await budgets.release(rs[1]!)).toBe("already_settled");
    expect(await budgets.snapshot(subject.id, "total")).toMatchObject({ spentNano: 3000 * 5, openNano: 0 });
  });

  it("forgets counters of periods long past", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const budgets = new MemoryBudgetCounter({ clock });
    await budgets.load("key:a", "day", 7);
    clock.set(Date.UTC(2026, 0, 4, 0, 0, 1)); // 2 days after the day's end
    await budgets.sweep();
    clock.set(Date.UTC(2026, 0, 1, 12));
    expect(await budgets.snapshot("key:a", "day")).toBeNull();
  });
});
