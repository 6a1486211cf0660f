import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { get, patch, post, type ListPage } from "../api";
import { usd } from "../format";
import { lines } from "../format";
import { useCan } from "../session";
import type { User, Workspace } from "../types";
import { Badge, Dialog, Empty, ErrorText, Field, Loaded, Page, TextArea } from "../ui";
import { useChange, useWorkspaces } from "./hooks";
import { LimitsForm } from "./limits-form";

function EditWorkspace({ ws, onClose }: { ws: Workspace; onClose: () => void }) {
  const [name, setName] = useState(ws.name);
  const [models, setModels] = useState((ws.allowed_models ?? []).join("\n"));
  const save = useChange((b: unknown) => patch(`/api/v1/workspaces/${ws.id}`, b), ["workspaces"], onClose);
  const canUsers = useCan("users:read");
  const users = useQuery({ queryKey: ["users"], enabled: canUsers, queryFn: () => get<ListPage<User>>("/api/v1/users"), retry: false });
  const members = (users.data?.data ?? []).filter((u) => u.role !== "developer" || u.workspace_ids?.includes(ws.id));
  return (
    <Dialog title={`Workspace “${ws.name}”`} onClose={onClose} wide>
      <form className="form-grid" onSubmit={(e) => { e.preventDefault(); save.mutate({ name, allowed_models: lines(models) }); }}>
        <Field label="Name" required value={name} onChange={(e) => setName(e.target.value)} />
        <TextArea label="Allowed models" value={models} onChange={setModels} hint="One per line; globs like claude-* work. Empty: every model." />
        <ErrorText error={save.error} />
        <div className="buttons"><button type="submit" disabled={save.isPending}>Save</button></div>
      </form>
      <h3>Limits</h3>
      <LimitsForm spend={ws.spend_limit} rates={ws.rate_limits} busy={save.isPending} error={null} onSave={(b) => save.mutate(b)} />
      {canUsers && (
        <>
          <h3>Members</h3>
          <p className="muted">Owners, admins, billing and viewers see every workspace; developers only those they are members of (change it on the People page).</p>
          <ul>{members.map((u) => <li key={u.id}>{u.name} ({u.email}) — {u.role}</li>)}</ul>
        </>
      )}
    </Dialog>
  );
}

export function WorkspacesPage() {
  const canWrite = useCan("workspaces:write");
  const [showArchived, setShowArchived] = useState(false);
  const list = useWorkspaces(showArchived);
  const [editing, setEditing] = useState<Workspace | null>(null);
  const [name, setName] = useState("");
  const create = useChange((n: string) => post("/api/v1/workspaces", { name: n }), ["workspaces"], () => setName(""));
  const archive = useChange((id: string) => post(`/api/v1/workspaces/${id}/archive`), ["workspaces"]);
  return (
    <Page title="Workspaces">
      {canWrite && (
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); create.mutate(name); }}>
          <Field label="New workspace name" required value={name} onChange={(e) => setName(e.target.value)} />
          <button type="submit" disabled={create.isPending}>Create workspace</button>
        </form>
      )}
      <ErrorText error={create.error ?? archive.error} />
      <label className="check"><input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} /> Show archived</label>
      <Loaded q={list} what="Workspaces">
        {(l) => l.data.length === 0 ? <Empty title="No workspaces">Create one to group keys, limits and provider credentials per team or environment.</Empty> : (
          <div className="table-wrap"><table>
            <thead><tr><th>Name</th><th>Allowed models</th><th>Spend limit</th><th>Rate limits</th><th>Status</th>{canWrite && <th />}</tr></thead>
            <tbody>{l.data.map((w) => (
              <tr key={w.id}>
                <td>{w.name} {w.is_default && <Badge>default</Badge>}</td>
                <td>{w.allowed_models?.join(", ") ?? "all"}</td>
                <td>{w.spend_limit ? `${usd(w.spend_limit.amount_usd)} / ${w.spend_limit.period}` : "none"}</td>
                <td>{w.rate_limits ? [w.rate_limits.requests_per_minute && `${w.rate_limits.requests_per_minute} req/min`, w.rate_limits.tokens_per_minute && `${w.rate_limits.tokens_per_minute} tok/min`, w.rate_limits.concurrent_requests && `${w.rate_limits.concurrent_requests} concurrent`].filter(Boolean).join(", ") : "none"}</td>
                <td>{w.archived_at ? <Badge tone="warn">archived</Badge> : <Badge tone="good">active</Badge>}</td>
                {canWrite && <td><div className="row-actions">{!w.archived_at && <><button type="button" className="small secondary" onClick={() => setEditing(w)}>Edit</button>{!w.is_default && <button type="button" className="small danger" onClick={() => archive.mutate(w.id)}>Archive</button>}</>}</div></td>}
              </tr>
            ))}</tbody>
          </table></div>
        )}
      </Loaded>
      {editing && <EditWorkspace ws={editing} onClose={() => setEditing(null)} />}
    </Page>
  );
}
