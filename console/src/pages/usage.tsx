import { useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { get, type ListPage } from "../api";
import { num, usd } from "../format";
import type { ApiKey } from "../types";
import { Card, Empty, Field, Loaded, Page, Select } from "../ui";
import { useWorkspaces } from "./hooks";
import { download, fetchUsage, groupOf, isoDay, toCsv, totalsBy, type GroupBy, type UsageQuery } from "./usage-data";

const COLORS = ["#3b5bdb", "#e8590c", "#2b8a3e", "#ae3ec9", "#c92a2a", "#1098ad", "#f08c00", "#5c7cfa", "#868e96"];
const TOKEN_SERIES = [["input", "Input", "#3b5bdb"], ["output", "Output", "#e8590c"], ["cacheWrite", "Cache write", "#ae3ec9"], ["cacheRead", "Cache read", "#2b8a3e"]] as const;

export function useNames() {
  const ws = useWorkspaces(true);
  const keys = useQuery({ queryKey: ["keys", "names"], queryFn: () => get<ListPage<ApiKey>>("/api/v1/keys?limit=1000"), retry: false });
  return (g: GroupBy, id: string) => {
    if (g === "api_key_id") return keys.data?.data.find((k) => k.id === id)?.name ?? id;
    if (g === "workspace_id") return ws.data?.data.find((w) => w.id === id)?.name ?? id;
    return id;
  };
}

export function UsagePage() {
  const now = Date.now();
  const [q, setQ] = useState<UsageQuery>({ from: isoDay(now - 29 * 86_400_000), to: isoDay(now), bucket: "1d", groupBy: "model" });
  const usage = useQuery({ queryKey: ["usage", q], queryFn: () => fetchUsage(q) });
  const name = useNames();
  const label = (b: string) => (q.bucket === "1h" ? b.slice(5, 13).replace("T", " ") + "h" : b.slice(5, 10));

  const view = useMemo(() => {
    const data = usage.data ?? [];
    const groups = totalsBy(data, q.groupBy).map(([g]) => g);
    const top = groups.slice(0, 8);
    const spend = data.map((b) => {
      const row: Record<string, number | string> = { t: label(b.starting_at) };
      for (const r of b.results) {
        const g = groupOf(r, q.groupBy);
        const k = top.includes(g) ? name(q.groupBy, g) : "Other";
        row[k] = ((row[k] as number | undefined) ?? 0) + Number(r.cost_usd);
      }
      return row;
    });
    const tokens = data.map((b) => {
      const row = { t: label(b.starting_at), input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
      for (const r of b.results) {
        row.input += r.uncached_input_tokens; row.output += r.output_tokens; row.cacheWrite += r.cache_creation_input_tokens; row.cacheRead += r.cache_read_input_tokens;
      }
      return row;
    });
    const series = [...top.map((g) => name(q.groupBy, g)), ...(groups.length > top.length ? ["Other"] : [])];
    return { spend, tokens, series, totals: totalsBy(data, q.groupBy), any: data.some((b) => b.results.some((r) => r.requests > 0)) };
  }, [usage.data, q.groupBy, q.bucket, name]);

  return (
    <Page title="Usage" actions={usage.data && <button type="button" className="secondary" onClick={() => download(`latchkey-usage-${q.from}-${q.to}.csv`, toCsv(usage.data!, q.groupBy))}>Export CSV</button>}>
      <div className="filters">
        <Field label="From" type="date" value={q.from} max={q.to} onChange={(e) => setQ({ ...q, from: e.target.value })} />
        <Field label="To" type="date" value={q.to} min={q.from} onChange={(e) => setQ({ ...q, to: e.target.value })} />
        <Select label="Per" value={q.bucket} onChange={(e) => setQ({ ...q, bucket: e.target.value as "1h" | "1d" })} options={[["1d", "Day"], ["1h", "Hour"]]} />
        <Select label="Split by" value={q.groupBy} onChange={(e) => setQ({ ...q, groupBy: e.target.value as GroupBy })} options={[["", "Nothing"], ["model", "Model"], ["api_key_id", "API key"], ["workspace_id", "Workspace"]]} />
        <Select label="Keys" value={q.test ? "test" : "live"} onChange={(e) => setQ({ ...q, test: e.target.value === "test" })} options={[["live", "Live (billed)"], ["test", "Test (simulator, never billed)"]]} />
      </div>
      <Loaded q={usage} what="Usage reporting">
        {() => !view.any ? (
          <Empty title={q.test ? "No test-key usage in this range" : "No usage in this range"}>Send a request through the gateway with one of your {q.test ? "test" : "live"} keys (for example <code>POST /v1/messages</code>) and it appears here within a few seconds.{q.test ? "" : " Test keys' usage is shown apart: choose Test under Keys."}</Empty>
        ) : (
          <>
            <Card title="Spend (USD)">
              <div className="chart" data-testid="spend-chart">
                <ResponsiveContainer width="100%" height={260}>
                  <BarChart data={view.spend}>
                    <CartesianGrid strokeDasharray="3 3" vertical={false} />
                    <XAxis dataKey="t" fontSize={12} /><YAxis fontSize={12} tickFormatter={(v: number) => usd(v)} width={70} />
                    <Tooltip formatter={(v) => usd(Number(v))} /><Legend />
                    {view.series.map((s, i) => <Bar key={s} dataKey={s} stackId="a" fill={COLORS[i % COLORS.length]} isAnimationActive={false} />)}
                  </BarChart>
                </ResponsiveContainer>
              </div>
              <div className="table-wrap">
                <table>
                  <thead><tr><th>{q.groupBy ? { model: "Model", api_key_id: "API key", workspace_id: "Workspace" }[q.groupBy] : "Total"}</th><th className="num">Requests</th><th className="num">Errors</th><th className="num">Spend</th></tr></thead>
                  <tbody>{view.totals.map(([g, t]) => <tr key={g}><td>{name(q.groupBy, g)}</td><td className="num">{num(t.requests)}</td><td className="num">{num(t.errors)}</td><td className="num">{usd(t.cost)}</td></tr>)}</tbody>
                </table>
              </div>
            </Card>
            <Card title="Tokens: input, output and cache">
              <div className="chart" data-testid="tokens-chart">
                <ResponsiveContainer width="100%" height={260}>
                  <BarChart data={view.tokens}>
                    <CartesianGrid strokeDasharray="3 3" vertical={false} />
                    <XAxis dataKey="t" fontSize={12} /><YAxis fontSize={12} tickFormatter={(v: number) => num(v)} width={70} />
                    <Tooltip formatter={(v) => num(Number(v))} /><Legend />
                    {TOKEN_SERIES.map(([k, l, c]) => <Bar key={k} dataKey={k} name={l} stackId="t" fill={c} isAnimationActive={false} />)}
                  </BarChart>
                </ResponsiveContainer>
              </div>
              <div className="table-wrap">
                <table>
                  <thead><tr><th>{q.groupBy ? "Split" : "Total"}</th><th className="num">Input</th><th className="num">Output</th><th className="num">Cache write</th><th className="num">Cache read</th></tr></thead>
                  <tbody>{view.totals.map(([g, t]) => <tr key={g}><td>{name(q.groupBy, g)}</td><td className="num">{num(t.input)}</td><td className="num">{num(t.output)}</td><td className="num">{num(t.cacheWrite)}</td><td className="num">{num(t.cacheRead)}</td></tr>)}</tbody>
                </table>
              </div>
            </Card>
          </>
        )}
      </Loaded>
    </Page>
  );
}
