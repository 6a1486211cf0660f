/**
 * Spend-limit periods, calendar and UTC: a day starts at 00:00 UTC, a week on Monday 00:00 UTC, a
 * month on the 1st. `total` never rolls over; `balance` is the credit counter (no period either).
 */
export type SpendPeriod = "day" | "week" | "month" | "total";
export type CounterPeriod = SpendPeriod | "balance";

export interface PeriodRange {
  /** Stable name of this period instance, part of the counter's key: "d2026-01-05", "w2026-01-05", "m2026-01", "t", "b". */
  key: string;
  start: number;
  /** Exclusive end in ms; Infinity for total and balance. */
  end: number;
}

const DAY = 86_400_000;
const OPEN_ENDED: Record<"total" | "balance", PeriodRange> = {
  total: { key: "t", start: 0, end: Infinity },
  balance: { key: "b", start: 0, end: Infinity },
};
// One cached range per period: the hot path recomputes a range only when the clock leaves it.
const cache: Record<SpendPeriod, PeriodRange> = {
  day: { key: "", start: 0, end: 0 },
  week: { key: "", start: 0, end: 0 },
  month: { key: "", start: 0, end: 0 },
  total: OPEN_ENDED.total,
};

/** The period instance that contains `now`. */
export function periodRange(period: CounterPeriod, now: number): PeriodRange {
  if (period === "total" || period === "balance") return OPEN_ENDED[period];
  const hit = cache[period];
  if (now >= hit.start && now < hit.end) return hit;
  const range = computeRange(period, now);
  cache[period] = range;
  return range;
}

function computeRange(period: "day" | "week" | "month", now: number): PeriodRange {
  const dayStart = Math.floor(now / DAY) * DAY;
  if (period === "day") return { key: `d${isoDate(dayStart)}`, start: dayStart, end: dayStart + DAY };
  if (period === "week") {
    const mondayOffset = (new Date(dayStart).getUTCDay() + 6) % 7;
    const start = dayStart - mondayOffset * DAY;
    return { key: `w${isoDate(start)}`, start, end: start + 7 * DAY };
  }
  const d = new Date(now);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { key: `m${isoDate(start).slice(0, 7)}`, start, end };
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
