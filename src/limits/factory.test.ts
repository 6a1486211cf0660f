import { describe, expect, it } from "vitest";
import { ManualClock } from "../lib/index.js";
import type { ExpiredReservation } from "./budget.js";
import { createLimits } from "./factory.js";

describe("createLimits without Redis", () => {
  it("builds memory counters, is always healthy, and reports expired leases through the callback once", async () => {
    const clock = new ManualClock();
    const reported: ExpiredReservation[] = [];
    const limits = createLimits({ clock, sweepIntervalMs: 10, reservationLeaseMs: 5_000, onLeaseExpired: (e) => void reported.push(...e) });
    try {
      expect(limits.health()).toBe("healthy");
      await limits.budgets.load("key:a", "day", 0);
      const r = await limits.budgets.reserve({ subjects: [{ id: "key:a", limitNano: 100, period: "day" }], amountNano: 40, requestId: "req_1" });
      expect(r.outcome).toBe("admitted");
      clock.advance(5_000);
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(reported.map((e) => [e.requestId, e.amountNano])).toEqual([["req_1", 40]]);
      expect(await limits.budgets.snapshot("key:a", "day")).toMatchObject({ spentNano: 40, openNano: 0 });
    } finally {
      limits.close();
    }
  });
});
