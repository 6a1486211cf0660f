import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { get, qs, type ListPage } from "../api";
import { when } from "../format";
import type { AuditEvent } from "../types";
import { Badge, Card, Empty, Field, Loaded, Page, Select } from "../ui";

interface Alert { id: string; type: string; subject_type: string; subject_id: string; period: string; threshold_percent: number | null; created_at: string; data: unknown }

export function AlertsPage() {
  const [type, setType] = useState("");
  const list = useQuery({ queryKey: ["alerts", type], queryFn: () => get<ListPage<Alert>>(`/api/v1/alerts${qs({ type, limit: 200 })}`), retry: false });
  return (
    <Page title="Alerts">
      <div className="filters">
        <Select label="Type" value={type} onChange={(e) => setType(e.target.value)} options={[["", "Any"], ["spend_limit.threshold_crossed", "Spend threshold crossed"], ["credits.low_balance", "Low credit balance"], ["credits.auto_top_up_requested", "Auto top-up requested"], ["key.leaked", "Leaked key"], ["credential.leaked", "Leaked provider credential"]]} />
      </div>
      <Loaded q={list} what="Alerts">
        {(l) => l.data.length === 0 ? <Empty title="No alerts">Alerts appear when spend crosses a threshold of a limit, credits run low or a key leaks. Set limits and thresholds on the Billing page.</Empty> : (
          <div className="table-wrap"><table>
            <thead><tr><th>When</th><th>Type</th><th>Subject</th><th>Threshold</th><th>Details</th></tr></thead>
            <tbody>{l.data.map((a) => <tr key={a.id}><td>{when(a.created_at)}</td><td><Badge tone="warn">{a.type}</Badge></td><td>{a.subject_type} {a.subject_id}</td><td>{a.threshold_percent !== null ? `${a.threshold_percent}%` : ""}</td><td><code className="wrap">{JSON.stringify(a.data)}</code></td></tr>)}</tbody>
          </table></div>
        )}
      </Loaded>
    </Page>
  );
}

export function AuditPage() {
  const [f, setF] = useState({ action: "", actor: "", target: "" });
  const list = useQuery({ queryKey: ["audit", f], queryFn: () => get<{ data: AuditEvent[]; has_more: boolean }>(`/api/v1/audit${qs({ ...f, limit: 200 })}`) });
  const chain = useQuery({ queryKey: ["audit", "verify"], queryFn: () => get<{ ok: boolean; count: number; broken_at: number | null }>("/api/v1/audit/verify") });
  return (
    <Page title="Audit log">
      <Card>
        <Loaded q={chain} what="Audit verification">
          {(c) => c.ok
            ? <p role="status"><Badge tone="good">chain intact</Badge> All {c.count} records check out: none was altered or deleted.</p>
            : <p role="alert"><Badge tone="bad">chain broken</Badge> The record at sequence {c.broken_at} does not match its predecessor: a record was altered or deleted.</p>}
        </Loaded>
      </Card>
      <div className="filters">
        <Field label="Action" placeholder="key.revoked" value={f.action} onChange={(e) => setF({ ...f, action: e.target.value })} />
        <Field label="Actor" placeholder="usr_… or key_…" value={f.actor} onChange={(e) => setF({ ...f, actor: e.target.value })} />
        <Field label="Target" placeholder="key_…" value={f.target} onChange={(e) => setF({ ...f, target: e.target.value })} />
      </div>
      <Loaded q={list} what="The audit log">
        {(l) => l.data.length === 0 ? <Empty title="No matching records">Every change to keys, workspaces, people and settings is recorded here.</Empty> : (
          <div className="table-wrap"><table>
            <thead><tr><th>#</th><th>When</th><th>Actor</th><th>Action</th><th>Target</th><th>Changes</th></tr></thead>
            <tbody>{l.data.map((e) => <tr key={e.id}><td>{e.seq}</td><td>{when(e.at)}</td><td><code>{e.actor}</code></td><td>{e.action}</td><td><code>{e.target}</code></td><td><code className="wrap">{JSON.stringify(e.changes)}</code></td></tr>)}</tbody>
          </table></div>
        )}
      </Loaded>
    </Page>
  );
}
