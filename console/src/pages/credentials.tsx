import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { del, get, post, type ListPage } from "../api";
import { when } from "../format";
import { useCan } from "../session";
import { Badge, Empty, ErrorText, Field, Loaded, Page, Select } from "../ui";
import { useChange, useWorkspaces } from "./hooks";

interface Credential { id: string; provider: string; name: string; hint: string; base_url: string | null; workspace_id: string | null; weight: number; created_at: string }

export function CredentialsPage() {
  const canWrite = useCan("credentials:write");
  const list = useQuery({ queryKey: ["credentials"], queryFn: () => get<ListPage<Credential>>("/api/v1/credentials"), retry: false });
  const ws = useWorkspaces();
  const [f, setF] = useState({ provider: "anthropic", name: "", secret: "", base_url: "", workspace_id: "" });
  const [tested, setTested] = useState<Record<string, string>>({});
  const add = useChange((b: unknown) => post("/api/v1/credentials", b), ["credentials"], () => setF({ ...f, name: "", secret: "", base_url: "" }));
  const remove = useChange((id: string) => del(`/api/v1/credentials/${id}`), ["credentials"]);
  const test = async (id: string) => {
    setTested({ ...tested, [id]: "testing…" });
    try {
      const r = await post<{ ok?: boolean; message?: string; status?: number }>(`/api/v1/credentials/${id}/test`);
      setTested((t) => ({ ...t, [id]: r.ok === false ? `failed: ${r.message ?? r.status}` : "works" }));
    } catch (e) {
      setTested((t) => ({ ...t, [id]: `failed: ${(e as Error).message}` }));
    }
  };
  return (
    <Page title="Provider credentials">
      <p className="muted">The upstream keys Latchkey uses for Anthropic, OpenAI and Google. They are encrypted at rest and never shown again after you add them; clients only ever see Latchkey keys.</p>
      <Loaded q={list} what="Provider credentials">
        {(l) => (
          <>
            {l.data.length === 0 ? <Empty title="No provider credentials yet">Add your Anthropic, OpenAI or Gemini key below so live keys can reach the provider. Test keys work without one.</Empty> : (
              <div className="table-wrap"><table>
                <thead><tr><th>Name</th><th>Provider</th><th>Secret</th><th>Scope</th><th>Added</th><th>Test</th>{canWrite && <th />}</tr></thead>
                <tbody>{l.data.map((c) => (
                  <tr key={c.id}><td>{c.name}</td><td>{c.provider}{c.base_url && <small className="muted"> via {c.base_url}</small>}</td><td><code>{c.hint}</code></td>
                    <td>{c.workspace_id ? ws.data?.data.find((w) => w.id === c.workspace_id)?.name ?? c.workspace_id : "organization"}</td><td>{when(c.created_at)}</td>
                    <td>{tested[c.id] ? <Badge tone={tested[c.id] === "works" ? "good" : tested[c.id]!.startsWith("failed") ? "bad" : "neutral"}>{tested[c.id]}</Badge> : canWrite && <button type="button" className="small secondary" onClick={() => void test(c.id)}>Test</button>}</td>
                    {canWrite && <td><button type="button" className="small danger" onClick={() => remove.mutate(c.id)}>Remove</button></td>}</tr>
                ))}</tbody>
              </table></div>
            )}
            {canWrite && (
              <form className="form-grid" onSubmit={(e) => { e.preventDefault(); add.mutate({ provider: f.provider, name: f.name, secret: f.secret, ...(f.base_url ? { base_url: f.base_url } : {}), ...(f.workspace_id ? { workspace_id: f.workspace_id } : {}) }); }}>
                <h2>Add a credential</h2>
                <Select label="Provider" value={f.provider} onChange={(e) => setF({ ...f, provider: e.target.value })} options={[["anthropic", "Anthropic"], ["openai", "OpenAI"], ["gemini", "Google Gemini"], ["openai-compatible", "OpenAI-compatible"]]} />
                <Field label="Name" required value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} />
                <Field label="Secret" type="password" autoComplete="off" required value={f.secret} onChange={(e) => setF({ ...f, secret: e.target.value })} hint="Write-only: it cannot be read back." />
                <Field label="Base URL (optional)" type="url" value={f.base_url} onChange={(e) => setF({ ...f, base_url: e.target.value })} hint="A regional endpoint, a proxy, or an OpenAI-compatible server." />
                <Select label="Used by" value={f.workspace_id} onChange={(e) => setF({ ...f, workspace_id: e.target.value })} options={[["", "The whole organization"], ...(ws.data?.data ?? []).map((w): [string, string] => [w.id, w.name])]} />
                <ErrorText error={add.error ?? remove.error} />
                <div className="buttons"><button type="submit" disabled={add.isPending}>Add credential</button></div>
              </form>
            )}
          </>
        )}
      </Loaded>
    </Page>
  );
}
