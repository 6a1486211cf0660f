import { useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { get, patch, post, del, type ListPage } from "../api";
import { usd, when } from "../format";
import { useCan } from "../session";
import type { Organization } from "../types";
import { Badge, Card, Dialog, Empty, ErrorText, Field, Loaded, Page, TextArea } from "../ui";
import { useChange } from "./hooks";
import { LimitsForm } from "./limits-form";
import type { Credits } from "./overview";

interface Webhook { id: string; url: string; events: string[]; status?: string; created_at: string; secret?: string }
interface Delivery { id: string; event_type: string; status: string; attempts: number; last_status_code: number | null; created_at: string; last_error: string | null }

function CreditsCard() {
  const canWrite = useCan("billing:write");
  const credits = useQuery({ queryKey: ["credits"], queryFn: () => get<Credits>("/api/v1/credits"), retry: false });
  const [amount, setAmount] = useState("");
  const [note, setNote] = useState("");
  const topUp = useChange((b: { amount_usd: string; note: string }) => post("/api/v1/credits", b), ["credits"], () => { setAmount(""); setNote(""); });
  const settings = useChange((b: unknown) => patch("/api/v1/credits/settings", b), ["credits", "organization"]);
  const submit = (e: FormEvent) => { e.preventDefault(); topUp.mutate({ amount_usd: amount.trim(), note: note.trim() || "Top-up from the console" }); };
  return (
    <Card title="Credits">
      <Loaded q={credits} what="Credits">
        {(c) => (
          <>
            <p className="big" data-testid="credit-balance">{usd(c.balance_usd)}</p>
            <p className="muted">{c.credits_enabled ? "Credits are on: each request draws from this balance and is refused when it runs out." : "Credits are off: requests are not charged to a balance."}
              {canWrite && <> <button type="button" className="small secondary" disabled={settings.isPending} onClick={() => settings.mutate({ credits_enabled: !c.credits_enabled })}>{c.credits_enabled ? "Turn credits off" : "Turn credits on"}</button></>}</p>
            <ErrorText error={settings.error} />
            {canWrite && (
              <form onSubmit={submit} className="inline-form">
                <Field label="Add credits (USD)" inputMode="decimal" required placeholder="e.g. 100.00" value={amount} onChange={(e) => setAmount(e.target.value)} />
                <Field label="Note" value={note} onChange={(e) => setNote(e.target.value)} />
                <button type="submit" disabled={topUp.isPending}>Add credits</button>
              </form>
            )}
            <ErrorText error={topUp.error} />
            <h3>Ledger</h3>
            {!c.ledger.data.length ? <Empty title="No credit movements yet">{canWrite ? "Add credits above; each request then draws from the balance." : undefined}</Empty> : (
              <div className="table-wrap"><table>
                <thead><tr><th>When</th><th>Kind</th><th>Note</th><th className="num">Amount</th><th className="num">Balance</th></tr></thead>
                <tbody>{c.ledger.data.map((l) => <tr key={l.id}><td>{when(l.at)}</td><td>{l.kind.replace(/_/g, " ")}</td><td>{l.note ?? ""}</td><td className="num">{usd(l.amount_usd)}</td><td className="num">{usd(l.balance_after_usd)}</td></tr>)}</tbody>
              </table></div>
            )}
          </>
        )}
      </Loaded>
    </Card>
  );
}

function LimitsCard() {
  const canWrite = useCan("org:write");
  const org = useQuery({ queryKey: ["organization"], queryFn: () => get<Organization>("/api/v1/organization") });
  const save = useChange((b: unknown) => patch<Organization>("/api/v1/organization", b), ["organization"]);
  const thresholds = (org.data?.settings?.alert_thresholds as number[] | undefined) ?? [];
  return (
    <Card title="Spend limits and alerts">
      <Loaded q={org} what="The organization">
        {(o) => (
          <>
            {canWrite ? <LimitsForm key={JSON.stringify(o.spend_limit)} spend={o.spend_limit} rates={o.rate_limits} busy={save.isPending} error={save.error} onSave={(b) => save.mutate(b)} />
              : <p>{o.spend_limit ? `${usd(o.spend_limit.amount_usd)} per ${o.spend_limit.period}` : "No organization spend limit."}</p>}
            {save.isSuccess && <p className="ok" role="status">Limits saved.</p>}
            <h3>Alert thresholds</h3>
            <p className="muted">An alert fires when spend crosses these percentages of a limit: {thresholds.length ? thresholds.map((t) => `${t}%`).join(", ") : "50%, 80%, 100% (the defaults)"}. Each fires once per period.</p>
            {canWrite && <ThresholdsForm current={thresholds} busy={save.isPending} onSave={(t) => save.mutate({ alert_thresholds: t })} />}
          </>
        )}
      </Loaded>
    </Card>
  );
}

function ThresholdsForm({ current, busy, onSave }: { current: number[]; busy: boolean; onSave: (t: number[] | null) => void }) {
  const [text, setText] = useState(current.join(", "));
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return onSave(null);
    const parts = text.split(/[\s,%]+/).filter(Boolean).map(Number);
    if (parts.some((n) => !Number.isInteger(n) || n < 1 || n > 1000)) return setProblem("Use whole percentages between 1 and 1000, like 50, 80, 100.");
    setProblem(null);
    onSave(parts);
  };
  return (
    <form onSubmit={submit} className="inline-form">
      <Field label="Thresholds (%)" hint="Comma-separated; leave empty for the defaults." value={text} onChange={(e) => setText(e.target.value)} />
      <button type="submit" disabled={busy}>Save thresholds</button>
      {problem && <p className="error" role="alert">{problem}</p>}
    </form>
  );
}

function WebhooksCard() {
  const canWrite = useCan("webhooks:write");
  const hooks = useQuery({ queryKey: ["webhooks"], queryFn: () => get<ListPage<Webhook>>("/api/v1/webhooks"), retry: false });
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState("spend_limit.threshold_crossed\ncredits.low_balance\ncredits.auto_top_up_requested\nkey.leaked");
  const [secret, setSecret] = useState<string | null>(null);
  const [log, setLog] = useState<Webhook | null>(null);
  const create = useChange((b: unknown) => post<Webhook>("/api/v1/webhooks", b), ["webhooks"], (w) => { setSecret(w.secret ?? null); setUrl(""); });
  const remove = useChange((id: string) => del(`/api/v1/webhooks/${id}`), ["webhooks"]);
  const deliveries = useQuery({ queryKey: ["webhooks", log?.id], enabled: !!log, queryFn: () => get<ListPage<Delivery>>(`/api/v1/webhooks/${log!.id}/deliveries`), retry: false });
  return (
    <Card title="Webhooks">
      <Loaded q={hooks} what="Webhooks">
        {(h) => (
          <>
            {h.data.length === 0 ? <Empty title="No webhook endpoints">Add one to receive signed alerts (spend thresholds, low credits, leaked keys) at your own URL.</Empty> : (
              <div className="table-wrap"><table>
                <thead><tr><th>URL</th><th>Events</th><th>Created</th><th /></tr></thead>
                <tbody>{h.data.map((w) => <tr key={w.id}><td><code>{w.url}</code></td><td>{w.events.join(", ")}</td><td>{when(w.created_at)}</td>
                  <td><div className="row-actions"><button type="button" className="small secondary" onClick={() => setLog(w)}>Delivery log</button>{canWrite && <button type="button" className="small danger" onClick={() => remove.mutate(w.id)}>Remove</button>}</div></td></tr>)}</tbody>
              </table></div>
            )}
            {canWrite && (
              <form className="form-grid" onSubmit={(e) => { e.preventDefault(); create.mutate({ url, events: events.split(/\s+/).filter(Boolean) }); }}>
                <Field label="Endpoint URL" type="url" required placeholder="https://hooks.example.com/latchkey" value={url} onChange={(e) => setUrl(e.target.value)} />
                <TextArea label="Events" value={events} onChange={setEvents} rows={3} hint="One per line, or * for all: spend_limit.threshold_crossed, credits.low_balance, credits.auto_top_up_requested, key.leaked, credential.leaked." />
                <ErrorText error={create.error} />
                <div className="buttons"><button type="submit" disabled={create.isPending}>Add webhook</button></div>
              </form>
            )}
          </>
        )}
      </Loaded>
      {secret && (
        <Dialog title="Webhook signing secret" onClose={() => setSecret(null)}>
          <p className="warning"><strong>Copy this secret now;</strong> it is shown once. Use it to check the <code>latchkey-signature</code> header of each delivery.</p>
          <input className="secret" readOnly value={secret} aria-label="Signing secret" />
          <div className="buttons"><button type="button" onClick={() => setSecret(null)}>Done</button></div>
        </Dialog>
      )}
      {log && (
        <Dialog title={`Deliveries to ${log.url}`} onClose={() => setLog(null)} wide>
          <Loaded q={deliveries} what="The delivery log">
            {(d) => d.data.length === 0 ? <Empty title="Nothing delivered yet" /> : (
              <table><thead><tr><th>When</th><th>Event</th><th>Status</th><th>Attempts</th><th>Response</th></tr></thead>
                <tbody>{d.data.map((x) => <tr key={x.id}><td>{when(x.created_at)}</td><td>{x.event_type}</td><td><Badge tone={x.status === "delivered" ? "good" : x.status === "failed" ? "bad" : "neutral"}>{x.status}</Badge></td><td>{x.attempts}</td><td>{x.last_status_code ?? x.last_error ?? ""}</td></tr>)}</tbody></table>
            )}
          </Loaded>
        </Dialog>
      )}
    </Card>
  );
}

export function BillingPage() {
  return (
    <Page title="Billing">
      <CreditsCard />
      <LimitsCard />
      <WebhooksCard />
    </Page>
  );
}
