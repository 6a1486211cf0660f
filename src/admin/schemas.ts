import { z } from "zod";
import { nanoToUsd, usdToNano } from "../lib/index.js";
import { SPEND_PERIODS, type RateLimits, type SpendLimit } from "../store/index.js";

const count = z.number().int().positive().nullable().optional();

export const rateLimitsSchema = z.strictObject({
  requests_per_minute: count,
  tokens_per_minute: count,
  concurrent_requests: count,
}).nullable();

export const usdAmount = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    const nano = usdToNano(v);
    if (nano < 0) throw new RangeError("negative");
    return nano;
  } catch {
    ctx.addIssue({ code: "custom", message: "must be a non-negative USD amount with at most 9 decimals, like \"25.00\"" });
    return z.NEVER;
  }
});

export const spendLimitSchema = z.strictObject({
  amount_usd: usdAmount,
  period: z.enum(SPEND_PERIODS),
}).nullable();

export const timestamp = z.union([z.iso.datetime({ offset: true }), z.null()]);

export const modelList = z.array(z.string().min(1).max(200).regex(/^[A-Za-z0-9._:/*@-]+$/, "model ids and globs use letters, digits and . _ : / * @ -")).max(200).nullable();

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  after: z.string().regex(/^[a-z]+_[0-9a-z]{25}$/, "not a valid cursor (use last_id from the previous page)").optional(),
};

export function toRateLimits(v: z.infer<typeof rateLimitsSchema> | undefined): RateLimits | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  return { requestsPerMinute: v.requests_per_minute ?? null, tokensPerMinute: v.tokens_per_minute ?? null, concurrentRequests: v.concurrent_requests ?? null };
}

export function toSpendLimit(v: z.infer<typeof spendLimitSchema> | undefined): SpendLimit | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  return { amountNano: v.amount_usd, period: v.period };
}

export function presentRateLimits(r: RateLimits | null) {
  return r && { requests_per_minute: r.requestsPerMinute, tokens_per_minute: r.tokensPerMinute, concurrent_requests: r.concurrentRequests };
}

export function presentSpendLimit(s: SpendLimit | null) {
  return s && { amount_usd: nanoToUsd(s.amountNano), amount_nano_usd: s.amountNano, period: s.period };
}

export function toMs(iso: string | null | undefined): number | null | undefined {
  return iso === undefined ? undefined : iso === null ? null : Date.parse(iso);
}
