import { get, qs } from "../api";
import type { UsageReport, UsageResult } from "../types";

export type GroupBy = "" | "api_key_id" | "model" | "workspace_id";
/** `test`: the usage of test keys, which the report keeps apart from live usage (it is never billed). */
export interface UsageQuery { from: string; to: string; bucket: "1h" | "1d"; groupBy: GroupBy; test?: boolean }

/** Every page of a usage report (the server pages long ranges). */
export async function fetchUsage(q: UsageQuery, path = "/api/v1/usage"): Promise<UsageReport["data"]> {
  const out: UsageReport["data"] = [];
  let page: string | null = null;
  for (let i = 0; i < 50; i++) {
    const r: UsageReport = await get<UsageReport>(`${path}${qs({
      starting_at: new Date(`${q.from}T00:00:00Z`).toISOString(), ending_at: new Date(Date.parse(`${q.to}T00:00:00Z`) + 86_400_000).toISOString(),
      bucket_width: q.bucket, group_by: q.groupBy ? [q.groupBy] : undefined, page: page ?? undefined, limit: q.bucket === "1h" ? 168 : 31, test_usage: q.test ? "only" : undefined,
    })}`);
    out.push(...r.data);
    if (!r.has_more || !r.next_page) break;
    page = r.next_page;
  }
  return out;
}

export const groupOf = (r: UsageResult, g: GroupBy): string => (g ? (r[g] as string | undefined) ?? "(none)" : "All");

export interface Totals { requests: number; errors: number; input: number; output: number; cacheWrite: number; cacheRead: number; cost: number }
export const zero = (): Totals => ({ requests: 0, errors: 0, input: 0, output: 0, cacheWrite: 0, cacheRead: 0, cost: 0 });

export function add(t: Totals, r: UsageResult): Totals {
  t.requests += r.requests; t.errors += r.errors; t.input += r.uncached_input_tokens; t.output += r.output_tokens;
  t.cacheWrite += r.cache_creation_input_tokens; t.cacheRead += r.cache_read_input_tokens; t.cost += Number(r.cost_usd);
  return t;
}

/** Totals per group over the whole range, largest spend first. */
export function totalsBy(data: UsageReport["data"], g: GroupBy): Array<[string, Totals]> {
  const m = new Map<string, Totals>();
  for (const b of data) for (const r of b.results) add(m.get(groupOf(r, g)) ?? m.set(groupOf(r, g), zero()).get(groupOf(r, g))!, r);
  return [...m.entries()].sort((a, b) => b[1].cost - a[1].cost || b[1].requests - a[1].requests);
}

export function toCsv(data: UsageReport["data"], g: GroupBy): string {
  const head = ["starting_at", "ending_at", ...(g ? [g] : []), "requests", "errors", "uncached_input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens", "cost_usd"];
  const rows = data.flatMap((b) => b.results.map((r) => [b.starting_at, b.ending_at, ...(g ? [groupOf(r, g)] : []), r.requests, r.errors, r.uncached_input_tokens, r.cache_creation_input_tokens, r.cache_read_input_tokens, r.output_tokens, r.cost_usd]));
  return [head, ...rows].map((row) => row.map((c) => /[",\n]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : String(c)).join(",")).join("\n") + "\n";
}

export function download(name: string, text: string, type = "text/csv"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
