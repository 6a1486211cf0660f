import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { get, patch, post, qs, type ListPage } from "../api";
import { ageDays, ago, when } from "../format";
import { useCan } from "../session";
import type { ApiKey } from "../types";
import { Badge, Dialog, Empty, ErrorText, Field, Loaded, Page, Select, statusTone } from "../ui";
import { useChange, useWorkspaces } from "./hooks";
import { KeyForm } from "./key-form";

const ROTATE_AFTER_DAYS = 90;

/** The plaintext, once: it lives only in this dialog's state and is gone from the page when it closes. */
function ShownOnce({ keyValue, title, onClose }: { keyValue: string; title: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(keyValue);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <p className="warning" role="note"><strong>Copy this key now.</strong> It is shown only once: Latchkey keeps only a hash and cannot show it again. If you lose it, roll the key.</p>
      <div className="secret-row">
        <input className="secret" readOnly value={keyValue} aria-label="The new key" onFocus={(e) => e.target.select()} />
        <button type="button" onClick={() => void copy()}>{copied ? "Copied" : "Copy"}</button>
      </div>
      <div className="buttons"><button type="button" className="secondary" onClick={onClose}>I have stored it safely</button></div>
    </Dialog>
  );
}

type Action = { type: "create" } | { type: "edit" | "roll" | "revoke"; key: ApiKey } | { type: "shown"; plaintext: string; title: string } | null;

export function KeysPage() {
  const canWrite = useCan("keys:write");
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState("");
  const [kind, setKind] = useState("");
  const [workspace, setWorkspace] = useState("");
  const [lastUsed, setLastUsed] = useState("");
  const [age, setAge] = useState("");
  const [action, setAction] = useState<Action>(null);
  const [grace, setGrace] = useState("86400");
  const workspaces = useWorkspaces();
  const wsName = (id: string) => workspaces.data?.data.find((w) => w.id === id)?.name ?? id;
  const keys = useQuery({
    queryKey: ["keys", search, status, kind, workspace],
    queryFn: () => get<ListPage<ApiKey>>(`/api/v1/keys${qs({ limit: 1000, search, status, kind, workspace_id: workspace })}`),
  });
  const close = () => setAction(null);
  const create = useChange((body: Record<string, unknown>) => post<ApiKey>("/api/v1/keys", body), ["keys"], (k) => setAction({ type: "shown", plaintext: k.key!, title: `Key “${k.name}” created` }));
  const edit = useChange((a: { id: string; body: Record<string, unknown> }) => patch<ApiKey>(`/api/v1/keys/${a.id}`, a.body), ["keys"], close);
  const act = useChange((a: { id: string; verb: string; body?: unknown }) => post<ApiKey>(`/api/v1/keys/${a.id}/${a.verb}`, a.body ?? {}), ["keys"], (k) => {
    if (k.key) setAction({ type: "shown", plaintext: k.key, title: `Key “${k.name}” rolled` });
    else close();
  });

  const now = Date.now();
  const shown = (keys.data?.data ?? []).filter((k) => {
    if (lastUsed === "never" && k.last_used_at) return false;
    if (lastUsed === "30d" && (!k.last_used_at || now - Date.parse(k.last_used_at) > 30 * 86_400_000)) return false;
    if (lastUsed === "idle" && k.last_used_at && now - Date.parse(k.last_used_at) <= 30 * 86_400_000) return false;
    if (age === "old" && ageDays(k.created_at, now) < ROTATE_AFTER_DAYS) return false;
    if (age === "new" && ageDays(k.created_at, now) >= 7) return false;
    return true;
  });

  return (
    <Page title="API keys" actions={canWrite && <button type="button" onClick={() => { create.reset(); setAction({ type: "create" }); }}>Create key</button>}>
      <div className="filters" role="search">
        <Field label="Search" placeholder="Name or hint" value={search} onChange={(e) => setSearch(e.target.value)} />
        <Select label="Status" value={status} onChange={(e) => setStatus(e.target.value)} options={[["", "Any"], ["active", "Active"], ["disabled", "Disabled"], ["revoked", "Revoked"], ["expired", "Expired"]]} />
        <Select label="Kind" value={kind} onChange={(e) => setKind(e.target.value)} options={[["", "Any"], ["live", "Live"], ["test", "Test"], ["publishable", "Publishable"], ["admin", "Admin"]]} />
        <Select label="Workspace" value={workspace} onChange={(e) => setWorkspace(e.target.value)} options={[["", "Any"], ...(workspaces.data?.data ?? []).map((w): [string, string] => [w.id, w.name])]} />
        <Select label="Last used" value={lastUsed} onChange={(e) => setLastUsed(e.target.value)} options={[["", "Any time"], ["30d", "In the last 30 days"], ["idle", "Not in 30 days"], ["never", "Never"]]} />
        <Select label="Age" value={age} onChange={(e) => setAge(e.target.value)} options={[["", "Any"], ["new", "Under a week"], ["old", `Over ${ROTATE_AFTER_DAYS} days (rotate)`]]} />
      </div>
      <Loaded q={keys} what="API keys">
        {() => shown.length === 0 ? (
          <Empty title={keys.data?.data.length ? "No key matches these filters" : "No API keys yet"}>
            {keys.data?.data.length ? "Clear a filter to see more." : canWrite ? "Create a key, then point your SDK's base URL at this server and use the key in place of the provider's." : "Ask an admin to create one."}
          </Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <thead><tr><th>Name</th><th>Key</th><th>Kind</th><th>Workspace</th><th>Status</th><th>Last used</th><th>Created</th>{canWrite && <th><span className="sr-only">Actions</span></th>}</tr></thead>
              <tbody>
                {shown.map((k) => {
                  const old = ageDays(k.created_at, now) >= ROTATE_AFTER_DAYS && k.status === "active";
                  const live = k.status !== "revoked";
                  return (
                    <tr key={k.id}>
                      <td>{k.name}</td>
                      <td><code>{k.hint}</code></td>
                      <td>{k.kind}</td>
                      <td>{wsName(k.workspace_id)}</td>
                      <td><Badge tone={statusTone(k.status)}>{k.status}</Badge>{k.expires_at && k.status === "active" && <small className="muted"> until {when(k.expires_at)}</small>}</td>
                      <td title={k.last_used_at ?? undefined}>{ago(k.last_used_at)}</td>
                      <td title={k.created_at}>{ageDays(k.created_at, now)} days{old && <> <Badge tone="warn">rotate</Badge></>}</td>
                      {canWrite && (
                        <td><div className="row-actions">
                          {live && <button type="button" className="small secondary" onClick={() => { edit.reset(); setAction({ type: "edit", key: k }); }}>Edit</button>}
                          {k.status === "active" && <button type="button" className="small secondary" onClick={() => act.mutate({ id: k.id, verb: "disable" })}>Disable</button>}
                          {k.status === "disabled" && <button type="button" className="small secondary" onClick={() => act.mutate({ id: k.id, verb: "enable" })}>Enable</button>}
                          {live && <button type="button" className="small secondary" onClick={() => { act.reset(); setAction({ type: "roll", key: k }); }}>Roll</button>}
                          {live && <button type="button" className="small danger" onClick={() => { act.reset(); setAction({ type: "revoke", key: k }); }}>Revoke</button>}
                        </div></td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
      <ErrorText error={action === null ? act.error : null} />

      {action?.type === "create" && (
        <Dialog title="Create an API key" onClose={close} wide>
          <KeyForm workspaces={(workspaces.data?.data ?? []).filter((w) => !w.archived_at)} submitLabel="Create key" busy={create.isPending} error={create.error} onSubmit={(b) => create.mutate(b)} />
        </Dialog>
      )}
      {action?.type === "edit" && (
        <Dialog title={`Edit “${action.key.name}”`} onClose={close} wide>
          <KeyForm initial={action.key} workspaces={workspaces.data?.data ?? []} submitLabel="Save changes" busy={edit.isPending} error={edit.error} onSubmit={(body) => edit.mutate({ id: action.key.id, body })} />
        </Dialog>
      )}
      {action?.type === "roll" && (
        <Dialog title={`Roll “${action.key.name}”`} onClose={close}>
          <p>A new key with the same settings is issued. The current key keeps working for the grace period, so you can deploy the new one first.</p>
          <Select label="Grace period" value={grace} onChange={(e) => setGrace(e.target.value)} options={[["0", "None — stop the old key now"], ["3600", "1 hour"], ["86400", "24 hours"], ["604800", "7 days"]]} />
          <ErrorText error={act.error} />
          <div className="buttons"><button type="button" disabled={act.isPending} onClick={() => act.mutate({ id: action.key.id, verb: "roll", body: { grace_seconds: Number(grace) } })}>Roll key</button></div>
        </Dialog>
      )}
      {action?.type === "revoke" && (
        <Dialog title={`Revoke “${action.key.name}”?`} onClose={close}>
          <p>Every request with <code>{action.key.hint}</code> is refused from now on, on every node. This cannot be undone.</p>
          <ErrorText error={act.error} />
          <div className="buttons">
            <button type="button" className="secondary" onClick={close}>Cancel</button>
            <button type="button" className="danger" disabled={act.isPending} onClick={() => act.mutate({ id: action.key.id, verb: "revoke" })}>Revoke key</button>
          </div>
        </Dialog>
      )}
      {action?.type === "shown" && <ShownOnce keyValue={action.plaintext} title={action.title} onClose={() => { create.reset(); act.reset(); close(); }} />}
    </Page>
  );
}
