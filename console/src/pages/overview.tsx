import { useQuery } from "@tanstack/react-query";
import { ApiError, get } from "../api";
import { num, usd } from "../format";
import { Link } from "../router";
import type { Organization } from "../types";
import { Card, Empty, ErrorText, Stat } from "../ui";
import { Page } from "../ui";
import { fetchUsage, isoDay, totalsBy, zero, add } from "./usage-data";
import { useNames } from "./usage";

interface LedgerEntry { id: string; at: string; kind: string; amount_usd: string; balance_after_usd: string; note: string | null; actor: string | null }
export interface Credits { balance_usd: string; credits_enabled: boolean; low_balance_usd: string | null; ledger: { data: LedgerEntry[]; has_more: boolean } }

const PERIOD_WORDS: Record<string, string> = { day: "today", week: "this week", month: "this month", total: "in total" };

/** The first day of the limit's calendar period (UTC; weeks start on Monday). */
function periodStart(period: string, orgCreated?: string): string {
  const now = new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  if (period === "day") return isoDay(today);
  if (period === "week") return isoDay(today - ((now.getUTCDay() + 6) % 7) * 86_400_000);
  if (period === "total" && orgCreated) return orgCreated.slice(0, 10);
  return isoDay(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export function OverviewPage() {
  const org = useQuery({ queryKey: ["organization"], queryFn: () => get<Organization & { created_at: string }>("/api/v1/organization") });
  const period = org.data?.spend_limit?.period ?? "month";
  const from = periodStart(period, org.data?.created_at);
  const to = isoDay(Date.now());
  const credits = useQuery({ queryKey: ["credits"], queryFn: () => get<Credits>("/api/v1/credits"), retry: false });
  const byKey = useQuery({ queryKey: ["usage", "overview", "key", from], enabled: !org.isLoading, queryFn: () => fetchUsage({ from, to, bucket: "1d", groupBy: "api_key_id" }), retry: false });
  const byModel = useQuery({ queryKey: ["usage", "overview", "model", from], enabled: !org.isLoading, queryFn: () => fetchUsage({ from, to, bucket: "1d", groupBy: "model" }), retry: false });
  const name = useNames();
  const total = (byKey.data ?? []).flatMap((b) => b.results).reduce(add, zero());
  const limit = org.data?.spend_limit;
  const usageMissing = byKey.error instanceof ApiError && byKey.error.notAvailable;
  const span = PERIOD_WORDS[period] ?? "this month";

  return (
    <Page title="Overview">
      <div className="stats">
        <Stat label={`Spend ${span}`} value={usageMissing ? "—" : usd(total.cost)} sub={limit ? `of ${usd(limit.amount_usd)} per ${limit.period}` : <Link to="billing">No organization limit — set one</Link>} />
        <Stat label="Credit balance" value={credits.data ? usd(credits.data.balance_usd) : "—"} sub={credits.data && !credits.data.credits_enabled ? "Credits are off: requests are not charged to a balance" : credits.error ? (credits.error instanceof ApiError && credits.error.notAvailable ? "Credits are not available on this server" : "Not visible to your role") : <Link to="billing">Billing</Link>} />
        <Stat label={`Requests ${span}`} value={usageMissing ? "—" : num(total.requests)} sub={`${num(total.errors)} errors${total.requests ? ` (${((total.errors / total.requests) * 100).toFixed(1)}%)` : ""}`} />
        <Stat label={`Tokens ${span}`} value={usageMissing ? "—" : num(total.input + total.output + total.cacheRead + total.cacheWrite)} sub={`${num(total.output)} output`} />
      </div>
      {limit && !usageMissing && (
        <Card title="Organization spend limit">
          <progress max={Number(limit.amount_usd) || 1} value={Math.min(total.cost, Number(limit.amount_usd))} aria-label="Spend against the limit" />
          <p className="muted">{usd(total.cost)} spent of {usd(limit.amount_usd)} ({limit.period}).</p>
        </Card>
      )}
      {usageMissing ? <Empty title="Usage reporting is not available on this server">Keys and workspaces still work; spend and requests appear here once the server reports usage.</Empty> : (
        <div className="two">
          <Card title={`Top keys ${span}`}>
            <ErrorText error={byKey.error} />
            {total.requests === 0 ? <Empty title="No requests yet"><Link to="keys">Create a key</Link>, then send a request through the gateway.</Empty> : (
              <table><thead><tr><th>Key</th><th className="num">Requests</th><th className="num">Spend</th></tr></thead>
                <tbody>{totalsBy(byKey.data ?? [], "api_key_id").slice(0, 5).map(([id, t]) => <tr key={id}><td>{name("api_key_id", id)}</td><td className="num">{num(t.requests)}</td><td className="num">{usd(t.cost)}</td></tr>)}</tbody></table>
            )}
          </Card>
          <Card title={`Top models ${span}`}>
            {total.requests === 0 ? <Empty title="No requests yet" /> : (
              <table><thead><tr><th>Model</th><th className="num">Requests</th><th className="num">Spend</th></tr></thead>
                <tbody>{totalsBy(byModel.data ?? [], "model").slice(0, 5).map(([id, t]) => <tr key={id}><td>{id}</td><td className="num">{num(t.requests)}</td><td className="num">{usd(t.cost)}</td></tr>)}</tbody></table>
            )}
          </Card>
        </div>
      )}
    </Page>
  );
}
