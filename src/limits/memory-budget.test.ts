import { describe, expect, it } from "vitest";
import { ManualClock } from "../lib/index.js";
import { SETTLED_MEMORY_MS, type BudgetReservation, type BudgetSubject } from "./budget.js";
import { MemoryBudgetCounter } from "./memory-budget.js";

/** Reserves `amountNano` on `subject` under `requestId`; throws unless admitted. */
async function reserved(budgets: MemoryBudgetCounter, subject: BudgetSubject, amountNano: number, requestId: string): Promise<BudgetReservation> {
  const r = await budgets.reserve({ subjects: [subject], amountNano, requestId });
  if (r.outcome !== "admitted") throw new Error(r.outcome);
  return r.reservation;
}

describe("MemoryBudgetCounter housekeeping", () => {
  it("keeps nothing per request once settled, and a settle repeated on the same reservation counts once", async () => {
    const clock = new ManualClock();
    const budgets = new MemoryBudgetCounter({ clock });
    const subject = { id: "key:a", limitNano: 1_000_000, period: "total" as const };
    await budgets.load(subject.id, "total", 0);
    const rs = [];
    for (let i = 0; i < 3000; i++) {
      const r = await reserved(budgets, subject, 10, `r${i}`);
      rs.push(r);
      expect(budgets.trackedRequests).toBe(1);
      await budgets.settle(r, 5);
      expect(budgets.trackedRequests).toBe(0);
    }
    clock.advance(SETTLED_MEMORY_MS * 10);
    await budgets.sweep();
    expect(await budgets.settle(rs[0]!, 5)).toBe("already_settled");
    expect(await budgets.release(rs[1]!)).toBe("already_settled");
    expect(await budgets.snapshot(subject.id, "total")).toMatchObject({ spentNano: 3000 * 5, openNano: 0 });
  });

  it("settles open reservations in any order, and the lease rule charges exactly the ones left open", async () => {
    const clock = new ManualClock();
    const budgets = new MemoryBudgetCounter({ clock, defaultLeaseMs: 10_000 });
    const other = new MemoryBudgetCounter({ clock });
    const subject = { id: "key:b", limitNano: 1_000_000, period: "total" as const };
    await budgets.load(subject.id, "total", 0);
    await other.load(subject.id, "total", 0);
    const rs = [];
    for (let i = 0; i < 30; i++) {
      rs.push(await reserved(budgets, subject, 100, `r${i}`));
      clock.advance(10);
    }
    // Settle the last, the first and every third in between (3 to 27): 19 stay open.
    const settled = new Set([29, 0, ...Array.from({ length: 9 }, (_, k) => 3 + k * 3)]);
    for (const i of settled) expect(await budgets.settle(rs[i]!, 1)).toBe("settled");
    expect(budgets.trackedRequests).toBe(30 - settled.size);
    expect(await other.settle(rs[5]!, 1), "another counter's reservation is not open there").toBe("unknown_reservation");
    expect(await budgets.snapshot(subject.id, "total")).toMatchObject({ spentNano: settled.size, openNano: (30 - settled.size) * 100 });
    clock.advance(10_000);
    const expired = await budgets.sweep();
    expect(expired.map((x) => x.requestId).sort()).toEqual(rs.map((r, i) => (settled.has(i) ? null : r.requestId)).filter((x) => x !== null).sort());
    expect(await budgets.snapshot(subject.id, "total")).toMatchObject({ spentNano: settled.size + (30 - settled.size) * 100, openNano: 0 });
    expect(await budgets.settle(rs[1]!, 1)).toBe("lease_expired");
    expect(budgets.trackedRequests).toBe(30 - settled.size); // remembered as expired, for a lease
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
