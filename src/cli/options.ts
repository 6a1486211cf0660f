import { CliError } from "./context.js";

export const list = (v: string): string[] => v.split(",").map((s) => s.trim()).filter(Boolean);

/** "2026-12-31T00:00:00Z", or a duration from now: "30d", "12h", "90m". "never" clears. */
export function expiry(v: string): string | null {
  if (v === "never") return null;
  const m = /^(\d+)([dhm])$/.exec(v);
  if (m) {
    const ms = Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as "d" | "h" | "m"];
    return new Date(Date.now() + ms).toISOString();
  }
  if (Number.isNaN(Date.parse(v))) throw new CliError(`--expires: '${v}' is not a time (use 2026-12-31T00:00:00Z or 30d)`);
  return new Date(v).toISOString();
}

/** "25.00/month" → {amount_usd, period}; "none" clears. */
export function spendLimit(v: string): { amount_usd: string; period: string } | null {
  if (v === "none") return null;
  const m = /^\$?(\d+(?:\.\d+)?)\/(day|week|month|total)$/.exec(v);
  if (!m) throw new CliError(`--spend-limit: '${v}' should look like 25.00/month (periods: day, week, month, total)`);
  return { amount_usd: m[1]!, period: m[2]! };
}

export function json(v: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(v);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw new CliError(`--metadata: not a JSON object: ${v}`);
}

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`'${v}' is not a positive whole number`);
  return n;
}

export function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`'${v}' is not a whole number of zero or more`);
  return n;
}

/** Rate-limit flags to the API's shape, or undefined when none was given. */
export function rateLimits(o: { rpm?: number; tpm?: number; concurrency?: number }) {
  if (o.rpm === undefined && o.tpm === undefined && o.concurrency === undefined) return undefined;
  return { requests_per_minute: o.rpm ?? null, tokens_per_minute: o.tpm ?? null, concurrent_requests: o.concurrency ?? null };
}
