import { useState, type FormEvent } from "react";
import { trimUsd } from "../format";
import type { RateLimits, SpendLimit } from "../types";
import { ErrorText, Field, Select } from "../ui";

const PERIODS: Array<[string, string]> = [["day", "per day"], ["week", "per week"], ["month", "per month"], ["total", "in total"]];
type Setter = (v: string) => void;

/** Requests, tokens and concurrency per minute, the same fields wherever rate limits apply. */
export function RateLimitFields({ rpm, tpm, conc, setRpm, setTpm, setConc }: { rpm: string; tpm: string; conc: string; setRpm: Setter; setTpm: Setter; setConc: Setter }) {
  return (
    <fieldset className="row">
      <legend>Rate limits (empty: none)</legend>
      <Field label="Requests / minute" type="number" min={1} value={rpm} onChange={(e) => setRpm(e.target.value)} />
      <Field label="Tokens / minute" type="number" min={1} value={tpm} onChange={(e) => setTpm(e.target.value)} />
      <Field label="Concurrent requests" type="number" min={1} value={conc} onChange={(e) => setConc(e.target.value)} />
    </fieldset>
  );
}

/** An amount and its period, the same fields wherever a spend limit applies. */
export function SpendLimitFields({ amount, period, setAmount, setPeriod, placeholder = "e.g. 500.00" }: { amount: string; period: string; setAmount: Setter; setPeriod: Setter; placeholder?: string }) {
  return (
    <fieldset className="row">
      <legend>Spend limit (empty: none)</legend>
      <Field label="Spend limit (USD)" inputMode="decimal" placeholder={placeholder} value={amount} onChange={(e) => setAmount(e.target.value)} />
      <Select label="Period" value={period} onChange={(e) => setPeriod(e.target.value)} options={PERIODS} />
    </fieldset>
  );
}

/** The one shape limits have everywhere (organization, workspace): a spend limit and rate limits. */
export function LimitsForm({ spend, rates, busy, error, onSave, showRates = true }: {
  spend: SpendLimit | null; rates?: RateLimits | null; busy: boolean; error: unknown; showRates?: boolean;
  onSave: (body: { spend_limit: { amount_usd: string; period: string } | null; rate_limits?: RateLimits | null }) => void;
}) {
  const [amount, setAmount] = useState(trimUsd(spend?.amount_usd));
  const [period, setPeriod] = useState<string>(spend?.period ?? "month");
  const [rpm, setRpm] = useState(String(rates?.requests_per_minute ?? ""));
  const [tpm, setTpm] = useState(String(rates?.tokens_per_minute ?? ""));
  const [conc, setConc] = useState(String(rates?.concurrent_requests ?? ""));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = (v: string) => (v.trim() ? Number(v) : null);
    const r = { requests_per_minute: n(rpm), tokens_per_minute: n(tpm), concurrent_requests: n(conc) };
    onSave({
      spend_limit: amount.trim() ? { amount_usd: amount.trim(), period } : null,
      ...(showRates ? { rate_limits: Object.values(r).some((v) => v !== null) ? r : null } : {}),
    });
  };
  return (
    <form onSubmit={submit}>
      <SpendLimitFields amount={amount} period={period} setAmount={setAmount} setPeriod={setPeriod} />
      {showRates && <RateLimitFields rpm={rpm} tpm={tpm} conc={conc} setRpm={setRpm} setTpm={setTpm} setConc={setConc} />}
      <ErrorText error={error} />
      <div className="buttons"><button type="submit" disabled={busy}>{busy ? "Saving…" : "Save limits"}</button></div>
    </form>
  );
}
