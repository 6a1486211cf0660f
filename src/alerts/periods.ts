import type { SpendPeriod } from "../store/index.js";

const DAY = 86_400_000;

/**
 * The calendar UTC period containing `now`, named like the limits counters name theirs
 * ("d2026-01-05", "w2026-01-05" for the week starting that Monday, "m2026-01", "t").
 */
export function spendPeriod(period: SpendPeriod, now: number): { key: string; start: number; end: number } {
  if (period === "total") return { key: "t", start: 0, end: Number.MAX_SAFE_INTEGER };
  const day = Math.floor(now / DAY) * DAY;
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  if (period === "day") return { key: `d${iso(day)}`, start: day, end: day + DAY };
  if (period === "week") {
    const start = day - ((new Date(day).getUTCDay() + 6) % 7) * DAY;
    return { key: `w${iso(start)}`, start, end: start + 7 * DAY };
  }
  const d = new Date(now);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return { key: `m${iso(start).slice(0, 7)}`, start, end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}
