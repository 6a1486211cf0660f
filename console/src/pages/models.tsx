import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { get, patch, type ListPage } from "../api";
import { num } from "../format";
import { useCan } from "../session";
import { Dialog, Empty, ErrorText, Field, Loaded, Page } from "../ui";
import { useChange } from "./hooks";

interface Model {
  id: string; provider: string; display_name?: string; aliases?: string[]; max_output_tokens?: number | null;
  pricing?: { effective_at: string; input_usd_per_mtok: string; output_usd_per_mtok: string; cache_write_usd_per_mtok: string; cache_read_usd_per_mtok: string };
}
const PRICE_FIELDS = [["input_usd_per_mtok", "Input"], ["output_usd_per_mtok", "Output"], ["cache_write_usd_per_mtok", "Cache write"], ["cache_read_usd_per_mtok", "Cache read"]] as const;
const price = (m: Model, k: (typeof PRICE_FIELDS)[number][0]) => m.pricing?.[k];

export function ModelsPage() {
  const canWrite = useCan("models:write");
  const [filter, setFilter] = useState("");
  const [editing, setEditing] = useState<Model | null>(null);
  const list = useQuery({ queryKey: ["models"], queryFn: () => get<ListPage<Model>>("/api/v1/models?limit=1000"), retry: false });
  const [draft, setDraft] = useState<Record<string, string>>({});
  const save = useChange((b: { id: string; body: unknown }) => patch(`/api/v1/models/${encodeURIComponent(b.id)}`, b.body), ["models"], () => setEditing(null));
  return (
    <Page title="Models and prices">
      <Field label="Filter" placeholder="claude, gpt, gemini…" value={filter} onChange={(e) => setFilter(e.target.value)} />
      <Loaded q={list} what="The model catalog">
        {(l) => {
          const rows = l.data.filter((m) => !filter || `${m.id} ${m.provider} ${(m.aliases ?? []).join(" ")}`.toLowerCase().includes(filter.toLowerCase()));
          return rows.length === 0 ? <Empty title="No models match">The catalog lists every model the gateway can price; clear the filter.</Empty> : (
            <div className="table-wrap"><table>
              <thead><tr><th>Model</th><th>Provider</th>{PRICE_FIELDS.map(([, l2]) => <th key={l2} className="num">{l2} / MTok</th>)}<th className="num">Max output</th>{canWrite && <th />}</tr></thead>
              <tbody>{rows.map((m) => (
                <tr key={m.id}><td>{m.id}{m.aliases?.length ? <small className="muted"> ({m.aliases.join(", ")})</small> : null}</td><td>{m.provider}</td>
                  {PRICE_FIELDS.map(([k]) => { const p = price(m, k); return <td key={k} className="num">{p !== undefined ? `$${Number(p)}` : "—"}</td>; })}<td className="num">{num(m.max_output_tokens)}</td>
                  {canWrite && <td><button type="button" className="small secondary" onClick={() => { setDraft(Object.fromEntries(PRICE_FIELDS.map(([k]) => [k, price(m, k) ?? ""]))); setEditing(m); }}>Edit prices</button></td>}</tr>
              ))}</tbody>
            </table></div>
          );
        }}
      </Loaded>
      {editing && (
        <Dialog title={`Prices of ${editing.id}`} onClose={() => setEditing(null)}>
          <p className="muted">New prices apply to requests from now on; past usage keeps the price it had.</p>
          <form onSubmit={(e) => { e.preventDefault(); save.mutate({ id: editing.id, body: { pricing: Object.fromEntries(Object.entries(draft).filter(([, v]) => v.trim() !== "")) } }); }}>
            {PRICE_FIELDS.map(([k, l2]) => <Field key={k} label={`${l2} (USD per million tokens)`} inputMode="decimal" value={draft[k] ?? ""} onChange={(e) => setDraft({ ...draft, [k]: e.target.value })} />)}
            <ErrorText error={save.error} />
            <div className="buttons"><button type="submit" disabled={save.isPending}>Save prices</button></div>
          </form>
        </Dialog>
      )}
    </Page>
  );
}
