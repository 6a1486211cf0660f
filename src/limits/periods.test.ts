import { describe, expect, it } from "vitest";
import { periodRange } from "./periods.js";

describe("periodRange", () => {
  it("days, weeks and months are calendar periods in UTC; weeks start on Monday", () => {
    const wed = Date.UTC(2026, 0, 7, 23, 59, 59, 999); // Wednesday 7 Jan 2026
    expect(periodRange("day", wed)).toEqual({ key: "d2026-01-07", start: Date.UTC(2026, 0, 7), end: Date.UTC(2026, 0, 8) });
    expect(periodRange("week", wed)).toEqual({ key: "w2026-01-05", start: Date.UTC(2026, 0, 5), end: Date.UTC(2026, 0, 12) });
    expect(periodRange("month", wed)).toEqual({ key: "m2026-01", start: Date.UTC(2026, 0, 1), end: Date.UTC(2026, 1, 1) });
    // A Sunday belongs to the week that began the Monday before; a Monday starts a new one.
    expect(periodRange("week", Date.UTC(2026, 0, 11, 12)).key).toBe("w2026-01-05");
    expect(periodRange("week", Date.UTC(2026, 0, 12)).key).toBe("w2026-01-12");
    expect(periodRange("month", Date.UTC(2024, 1, 29, 23)).end).toBe(Date.UTC(2024, 2, 1));
    expect(periodRange("month", Date.UTC(2025, 11, 31, 23)).end).toBe(Date.UTC(2026, 0, 1));
    expect(periodRange("total", wed)).toEqual({ key: "t", start: 0, end: Infinity });
  });

  it("the cache never answers a range that does not contain now", () => {
    const a = Date.UTC(2026, 2, 31, 23, 59);
    expect(periodRange("day", a).key).toBe("d2026-03-31");
    expect(periodRange("day", a + 60_000).key).toBe("d2026-04-01");
    expect(periodRange("day", a).key).toBe("d2026-03-31");
  });
});
