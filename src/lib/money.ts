/**
 * Money is integers: prices in micro-USD per million tokens, costs in nano-USD (1e-9 USD).
 * JavaScript numbers hold integers exactly up to 2^53 nano-USD, about 9 million USD per value,
 * far above any single counter this system keeps; the database columns are 64-bit.
 */
export const NANO_PER_USD = 1_000_000_000;

/** Cost in nano-USD of `tokens` at `microUsdPerMTok`, rounded up so that nothing is under-billed. */
export function tokenCostNano(tokens: number, microUsdPerMTok: number): number {
  if (tokens <= 0 || microUsdPerMTok <= 0) return 0;
  // (tokens * micro / 1e6) micro-USD = tokens * micro / 1e3 nano-USD
  return Math.ceil((tokens * microUsdPerMTok) / 1000);
}

/** "12.345678" USD (up to 9 decimals) to nano-USD; throws on anything that is not a plain decimal. */
export function usdToNano(usd: string | number): number {
  const text = typeof usd === "number" ? usd.toFixed(9) : usd.trim();
  // A number is refused rather than rounded when nine decimals cannot hold it exactly (5e-324 would become 0).
  if (typeof usd === "number" && Number(text) !== usd) throw new RangeError(`not a USD amount with at most 9 decimals: ${String(usd)}`);
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) throw new RangeError(`not a USD amount: ${String(usd)}`);
  const nano = Number(m[2]) * NANO_PER_USD + Number((m[3] ?? "").padEnd(9, "0"));
  if (!Number.isSafeInteger(nano)) throw new RangeError(`USD amount too large: ${String(usd)}`);
  return m[1] ? -nano : nano;
}

/** nano-USD to a decimal string with `decimals` places (default 6), exact, no floating point. */
export function nanoToUsd(nano: number, decimals = 6): string {
  const sign = nano < 0 ? "-" : "";
  const abs = Math.abs(nano);
  const whole = Math.floor(abs / NANO_PER_USD);
  const frac = String(abs % NANO_PER_USD).padStart(9, "0").slice(0, decimals);
  return decimals > 0 ? `${sign}${whole}.${frac}` : `${sign}${whole}`;
}

/** Micro-USD per million tokens from dollars per million tokens ("3" or "0.075"). */
export function usdPerMTokToMicro(usd: string | number): number {
  return Math.round(usdToNano(usd) / 1000);
}

export function microToUsdPerMTok(micro: number): string {
  return nanoToUsd(micro * 1000, 6).replace(/\.?0+$/, "");
}
