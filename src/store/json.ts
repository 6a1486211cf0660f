import type { RateLimits, SpendLimit } from "./types.js";

export function parseJson<T>(text: string | null): T | null {
  return text == null ? null : (JSON.parse(text) as T);
}

export function toJson(value: unknown): string | null {
  return value == null ? null : JSON.stringify(value);
}

export const parseRateLimits = (t: string | null) => parseJson<RateLimits>(t);
export const parseSpendLimit = (t: string | null) => parseJson<SpendLimit>(t);
