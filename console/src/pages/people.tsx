import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { del, get, patch, post, type ListPage } from "../api";
import { ago, when } from "../format";
import { useCan, useSession } from "../session";
import type { Invitation, User } from "../types";
import { Card, Dialog, Empty, ErrorText, Field, Loaded, Page, Select } from "../ui";
import { useChange, useWorkspaces } from "./hooks";

const ROLES: Array<[string, string]> = [["viewer", "Viewer — read only"], ["developer", "Developer — keys in their workspaces"], ["billing", "Billing — credits, limits, usage"], ["admin", "Admin — everything but owners"], ["owner", "Owner"]];

/** Which workspaces a developer may use: one checkbox each. */
function WorkspaceChecks({ all, chosen, onChange }: { all: Array<{ id: string; name: string }>; chosen: string[]; onChange: (ids: string[]) => void }) {
  return (
    <fieldset><legend>Workspaces</legend>
      {all.map((w) => <label key={w.id} className="check"><input type="checkbox" checked={chosen.includes(w.id)} onChange={(e) => onChange(e.target.checked ? [...chosen, w.id] : chosen.filter((x) => x !== w.id))} /> {w.name}</label>)}
    </fieldset>
  );
}

export function PeoplePage() {
  const me = useSession();
  const canWrite = useCan("users:write");
  const users = useQuery({ queryKey: ["users"], queryFn: () => get<ListPage<User>>("/api/v1/users") });
  const invites = useQuery({ queryKey: ["invitations"], queryFn: () => get<ListPage<Invitation>>("/api/v1/users/invitations") });
  const ws = useWorkspaces();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("viewer");
  const [wsIds, setWsIds] = useState<string[]>([]);
  const [link, setLink] = useState<string | null>(null);
  const [editing, setEditing] = useState<{ user: User; ids: string[] } | null>(null);
  const invite = useChange((b: unknown) => post<Invitation>("/api/v1/users/invitations", b), ["invitations"], (i) => { setLink(new URL(i.url!, window.location.origin).toString()); setEmail(""); });
  const change = useChange((b: { id: string; body: unknown }) => patch(`/api/v1/users/${b.id}`, b.body), ["users"], () => setEditing(null));
  const remove = useChange((id: string) => del(`/api/v1/users/${id}`), ["users"]);
  const withdraw = useChange((id: string) => del(`/api/v1/users/invitations/${id}`), ["invitations"]);
  const wsName = (id: string) => ws.data?.data.find((w) => w.id === id)?.name ?? id;
  const roles = me.role === "owner" ? ROLES : ROLES.filter(([r]) => r !== "owner");
  return (
    <Page title="People">
      <Loaded q={users} what="People">
        {(l) => (
          <div className="table-wrap"><table>
            <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Workspaces</th><th>Last sign-in</th>{canWrite && <th />}</tr></thead>
            <tbody>{l.data.map((u) => (
              <tr key={u.id}><td>{u.name}{u.id === me.id && " (you)"}</td><td>{u.email}</td>
                <td>{canWrite && u.id !== me.id && (u.role !== "owner" || me.role === "owner")
                  ? <select aria-label={`Role of ${u.email}`} value={u.role} onChange={(e) => change.mutate({ id: u.id, body: { role: e.target.value } })}>{roles.map(([r]) => <option key={r} value={r}>{r}</option>)}</select>
                  : u.role}</td>
                <td>{u.role === "developer" ? (u.workspace_ids ?? []).map(wsName).join(", ") || "none" : "all"}
                  {canWrite && u.role === "developer" && <> <button type="button" className="small secondary" onClick={() => setEditing({ user: u, ids: u.workspace_ids ?? [] })}>Change</button></>}</td>
                <td>{ago(u.last_sign_in_at)}</td>
                {canWrite && <td>{u.id !== me.id && <button type="button" className="small danger" onClick={() => remove.mutate(u.id)}>Remove</button>}</td>}</tr>
            ))}</tbody>
          </table></div>
        )}
      </Loaded>
      <ErrorText error={change.error ?? remove.error ?? withdraw.error} />
      {editing && (
        <Dialog title={`Workspaces of ${editing.user.email}`} onClose={() => setEditing(null)}>
          <form onSubmit={(e) => { e.preventDefault(); change.mutate({ id: editing.user.id, body: { workspace_ids: editing.ids } }); }}>
            <WorkspaceChecks all={ws.data?.data ?? []} chosen={editing.ids} onChange={(ids) => setEditing({ ...editing, ids })} />
            <div className="buttons"><button type="submit" disabled={change.isPending}>Save workspaces</button></div>
          </form>
        </Dialog>
      )}
      {canWrite && (
        <Card title="Invite someone">
          <form className="form-grid" onSubmit={(e) => { e.preventDefault(); invite.mutate({ email, role, ...(role === "developer" ? { workspace_ids: wsIds } : {}) }); }}>
            <Field label="Email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
            <Select label="Role" value={role} onChange={(e) => setRole(e.target.value)} options={roles} />
            {role === "developer" && <WorkspaceChecks all={ws.data?.data ?? []} chosen={wsIds} onChange={setWsIds} />}
            <ErrorText error={invite.error} />
            <div className="buttons"><button type="submit" disabled={invite.isPending}>Create invitation link</button></div>
          </form>
          <h3>Pending invitations</h3>
          <Loaded q={invites} what="Invitations">
            {(l) => l.data.length === 0 ? <Empty title="No pending invitations" /> : (
              <ul>{l.data.map((i) => <li key={i.id}>{i.email} as {i.role}, until {when(i.expires_at)} <button type="button" className="small secondary" onClick={() => withdraw.mutate(i.id)}>Withdraw</button></li>)}</ul>
            )}
          </Loaded>
        </Card>
      )}
      {link && (
        <Dialog title="Invitation link" onClose={() => setLink(null)}>
          <p>Send this link to the person you invited; it works once, for 7 days. No email is sent by Latchkey.</p>
          <input className="secret" readOnly value={link} aria-label="Invitation link" onFocus={(e) => e.target.select()} />
          <div className="buttons"><button type="button" onClick={() => void navigator.clipboard.writeText(link).catch(() => undefined)}>Copy</button><button type="button" className="secondary" onClick={() => setLink(null)}>Done</button></div>
        </Dialog>
      )}
    </Page>
  );
}
