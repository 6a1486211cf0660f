import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { del, get, patch, post, type ListPage } from "../api";
import { when } from "../format";
import { useCan } from "../session";
import { Badge, Dialog, Empty, ErrorText, Field, Loaded, Page, Select } from "../ui";
import { editedModels, modelsText, parseModels, PROVIDER_OPTIONS, type ModelEntry, SECRET_HINTS, SettingFields, settingsBody } from "./credential-fields";
import { useChange, useWorkspaces } from "./hooks";

interface Credential {
  id: string; provider: string; name: string; hint: string; base_url: string | null; workspace_id: string | null; weight: number; priority: number;
  settings: Record<string, string>; models: ModelEntry[]; created_at: string;
}

const EMPTY_FORM = { provider: "anthropic", name: "", secret: "", base_url: "", workspace_id: "", models: "", settings: {} as Record<string, string> };

export function CredentialsPage() {
  const canWrite = useCan("credentials:write");
  const list = useQuery({ queryKey: ["credentials"], queryFn: () => get<ListPage<Credential>>("/api/v1/credentials"), retry: false });
  const ws = useWorkspaces();
  const [f, setF] = useState(EMPTY_FORM);
  const [editing, setEditing] = useState<Credential | null>(null);
  const [tested, setTested] = useState<Record<string, string>>({});
  const add = useChange((b: unknown) => post("/api/v1/credentials", b), ["credentials"], () => setF({ ...EMPTY_FORM, provider: f.provider }));
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
  const submit = () => {
    const settings = settingsBody(f.provider, f.settings, false);
    const models = parseModels(f.models);
    add.mutate({
      provider: f.provider, name: f.name, secret: f.secret, ...(f.base_url ? { base_url: f.base_url } : {}), ...(f.workspace_id ? { workspace_id: f.workspace_id } : {}),
      ...(settings ? { settings } : {}), ...(models.length ? { models } : {}),
    });
  };
  return (
    <Page title="Provider credentials">
      <p className="muted">The upstream keys Latchkey uses for Anthropic, OpenAI, Google and the clouds that host their models. They are encrypted at rest and never shown again after you add them; clients only ever see Latchkey keys.</p>
      <Loaded q={list} what="Provider credentials">
        {(l) => (
          <>
            {l.data.length === 0 ? <Empty title="No provider credentials yet">Add your Anthropic, OpenAI or Gemini key below so live keys can reach the provider. Test keys work without one.</Empty> : (
              <div className="table-wrap"><table>
                <thead><tr><th>Name</th><th>Provider</th><th>Secret</th><th>Models</th><th>Scope</th><th>Added</th><th>Test</th>{canWrite && <th />}</tr></thead>
                <tbody>{l.data.map((c) => (
                  <tr key={c.id}><td>{c.name}</td>
                    <td>{c.provider}{Object.entries(c.settings ?? {}).map(([k, v]) => <small key={k} className="muted"> {k} {v}</small>)}{c.base_url && <small className="muted"> via {c.base_url}</small>}</td>
                    <td><code>{c.hint}</code></td>
                    <td>{modelsText(c.models ?? []) || <span className="muted">the provider's</span>}{c.priority ? <small className="muted"> priority {c.priority}</small> : null}{c.weight !== 1 ? <small className="muted"> weight {c.weight}</small> : null}</td>
                    <td>{c.workspace_id ? ws.data?.data.find((w) => w.id === c.workspace_id)?.name ?? c.workspace_id : "organization"}</td><td>{when(c.created_at)}</td>
                    <td>{tested[c.id] ? <Badge tone={tested[c.id] === "works" ? "good" : tested[c.id]!.startsWith("failed") ? "bad" : "neutral"}>{tested[c.id]}</Badge> : canWrite && <button type="button" className="small secondary" onClick={() => void test(c.id)}>Test</button>}</td>
                    {canWrite && <td className="buttons">
                      <button type="button" className="small secondary" aria-label={`Edit ${c.name}`} onClick={() => setEditing(c)}>Edit</button>
                      <button type="button" className="small danger" onClick={() => remove.mutate(c.id)}>Remove</button>
                    </td>}</tr>
                ))}</tbody>
              </table></div>
            )}
            {editing && <EditCredential c={editing} onDone={() => { setTested((t) => ({ ...t, [editing.id]: "" })); setEditing(null); }} />}
            {canWrite && (
              <form className="form-grid" onSubmit={(e) => { e.preventDefault(); submit(); }}>
                <h2>Add a credential</h2>
                <Select label="Provider" value={f.provider} onChange={(e) => setF({ ...f, provider: e.target.value, settings: {} })} options={PROVIDER_OPTIONS} />
                <Field label="Name" required value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} />
                <Field label="Secret" type="password" autoComplete="off" required value={f.secret} onChange={(e) => setF({ ...f, secret: e.target.value })} hint={SECRET_HINTS[f.provider] ?? "Write-only: it cannot be read back."} />
                <SettingFields provider={f.provider} values={f.settings} onChange={(settings) => setF({ ...f, settings })} />
                <Field label="Models it serves (optional)" value={f.models} onChange={(e) => setF({ ...f, models: e.target.value })} hint="Comma-separated ids or patterns, each with =its name upstream when it differs (a Bedrock model id, an Azure deployment), and (chat) when the host takes only Chat Completions for it. Empty: the provider's own models." />
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

/** Changes a credential in place (PATCH): everything but its provider and secret. */
function EditCredential({ c, onDone }: { c: Credential; onDone: () => void }) {
  const [e, setE] = useState({ name: c.name, base_url: c.base_url ?? "", weight: String(c.weight), priority: String(c.priority ?? 0), models: modelsText(c.models ?? []), settings: { ...c.settings } });
  const save = useChange((b: unknown) => patch(`/api/v1/credentials/${c.id}`, b), ["credentials"], onDone);
  const submit = () => {
    const settings = settingsBody(c.provider, e.settings, true);
    save.mutate({
      name: e.name, base_url: e.base_url.trim() || null, weight: Number(e.weight), priority: Number(e.priority), models: editedModels(e.models, c.models ?? []),
      ...(settings ? { settings } : {}),
    });
  };
  return (
    <Dialog title={`Edit ${c.name}`} onClose={onDone}>
      <form className="form-grid" onSubmit={(ev) => { ev.preventDefault(); submit(); }}>
        <p className="muted">The secret ({c.hint}) stays as it is; remove the credential and add it again to replace it.</p>
        <Field label="Name" required value={e.name} onChange={(ev) => setE({ ...e, name: ev.target.value })} />
        <SettingFields provider={c.provider} values={e.settings} onChange={(settings) => setE({ ...e, settings })} />
        <Field label="Models it serves" value={e.models} onChange={(ev) => setE({ ...e, models: ev.target.value })} hint="Comma-separated, each with =its name upstream when it differs, and (chat) when the host takes only Chat Completions for it. Empty: the provider's own models." />
        <Field label="Base URL" type="url" value={e.base_url} onChange={(ev) => setE({ ...e, base_url: ev.target.value })} hint="Empty: the provider's own endpoint." />
        <Field label="Priority" type="number" min={0} max={1000} value={e.priority} onChange={(ev) => setE({ ...e, priority: ev.target.value })} hint="Lower goes first among a model's deployments." />
        <Field label="Weight" type="number" min={1} max={1000} value={e.weight} onChange={(ev) => setE({ ...e, weight: ev.target.value })} hint="Share of traffic among deployments of equal priority." />
        <ErrorText error={save.error} />
        <div className="buttons"><button type="submit" disabled={save.isPending}>Save changes</button></div>
      </form>
    </Dialog>
  );
}
