import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "latchkey-signature";

/** `t=<unix seconds>,v1=<hex HMAC-SHA-256 of "<t>.<body>">`. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Checks a signature header as a receiver would: a v1 MAC that matches in constant time and a
 * timestamp within `toleranceSeconds` of `nowSeconds` (replay protection).
 */
export function verifyWebhookSignature(secret: string, body: string, header: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = new Map<string, string[]>();
  for (const item of header.split(",")) {
    const i = item.indexOf("=");
    if (i > 0) parts.set(item.slice(0, i).trim(), [...(parts.get(item.slice(0, i).trim()) ?? []), item.slice(i + 1).trim()]);
  }
  const t = Number(parts.get("t")?.[0]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(`${t}.${body}`).digest("hex"));
  return (parts.get("v1") ?? []).some((v) => v.length === expected.length && timingSafeEqual(Buffer.from(v), expected));
}
