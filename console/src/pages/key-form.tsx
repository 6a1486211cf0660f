import { useState, type FormEvent } from "react";
import type { ApiKey, Workspace } from "../types";
import { lines, trimUsd } from "../format";
import { ErrorText, Field, Select, TextArea } from "../ui";
import { useSession } from "../session";
import { RateLimitFields, SpendLimitFields } from "./limits-form";

const GATEWAY_SCOPES = ["messages", "chat", "embeddings", "responses", "gemini", "models", "count_tokens"];

/** Every setting of a key; used to create one and to edit one (kind and workspace are fixed after creation). */
export function KeyForm({ initial, workspaces, submitLabel, busy, error, onSubmit }: {
  initial?: ApiKey; workspaces: Workspace[]; submitLabel: string; busy: boolean; error: unknown; onSubmit: (body: Record<string, unknown>) => void;
}) {
  const [name, setName] = useState(initial?.name ?? "");
  const [kind, setKind] = useState<string>(initial?.kind ?? "live");
  const [workspaceId, setWorkspaceId] = useState(initial?.workspace_id ?? workspaces.find((w) => w.is_default)?.id ?? workspaces[0]?.id ?? "");
  const session = useSession();
  // The server refuses an admin key beyond its maker's power (and any admin key from a workspace-limited
  // developer): offer it only to those who may make one, and never pre-fill "*" they do not hold.
  const mayMakeAdmin = session.workspace_ids === null && (session.scopes.includes("*") || session.scopes.includes("keys:write"));
  const [scopes, setScopes] = useState((initial?.scopes ?? ["*"]).join(", "));
  const chooseKind = (k: string) => {
    setKind(k);
    if (k === "admin" && scopes.trim() === "*" && !session.scopes.includes("*")) setScopes("");
  };
  const [models, setModels] = useState((initial?.allowed_models ?? []).join("\n"));
  const [ips, setIps] = useState((initial?.ip_allowlist ?? []).join("\n"));
  const [origins, setOrigins] = useState((initial?.allowed_origins ?? []).join("\n"));
  const [rpm, setRpm] = useState(String(initial?.rate_limits?.requests_per_minute ?? ""));
  const [tpm, setTpm] = useState(String(initial?.rate_limits?.tokens_per_minute ?? ""));
  const [conc, setConc] = useState(String(initial?.rate_limits?.concurrent_requests ?? ""));
  const [spend, setSpend] = useState(trimUsd(initial?.spend_limit?.amount_usd));
  const [period, setPeriod] = useState<string>(initial?.spend_limit?.period ?? "month");
  const [expires, setExpires] = useState(initial?.expires_at ? initial.expires_at.slice(0, 10) : "");
  const [metadata, setMetadata] = useState(initial ? JSON.stringify(initial.metadata) : "{}");
  const [localError, setLocalError] = useState<string | null>(null);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setLocalError(null);
    let meta: Record<string, unknown>;
    try {
      meta = JSON.parse(metadata || "{}");
    } catch {
      setLocalError("Metadata must be a JSON object, like {\"team\": \"search\"}.");
      return;
    }
    const n = (v: string) => (v.trim() ? Number(v) : null);
    const limits = { requests_per_minute: n(rpm), tokens_per_minute: n(tpm), concurrent_requests: n(conc) };
    const body: Record<string, unknown> = {
      name, scopes: lines(scopes) ?? [], allowed_models: lines(models), ip_allowlist: lines(ips), allowed_origins: lines(origins),
      rate_limits: Object.values(limits).some((v) => v !== null) ? limits : null,
      spend_limit: spend.trim() ? { amount_usd: spend.trim(), period } : null,
      expires_at: expires ? new Date(`${expires}T23:59:59Z`).toISOString() : null, metadata: meta,
    };
    if (!initial) Object.assign(body, { kind, workspace_id: workspaceId });
    onSubmit(body);
  };

  return (
    <form onSubmit={submit} className="form-grid">
      <Field label="Name" required value={name} onChange={(e) => setName(e.target.value)} hint="Who or what uses it, like “search backend (prod)”." />
      {!initial && (
        <>
          <Select label="Kind" value={kind} onChange={(e) => chooseKind(e.target.value)} options={[
            ["live", "Live — calls real providers"], ["test", "Test — simulator only, never spends"],
            ["publishable", "Publishable — from a browser, needs origins, models and a limit"],
            ...(mayMakeAdmin ? [["admin", "Admin — management API, at most your own permissions"] as [string, string]] : []),
          ]} />
          <Select label="Workspace" value={workspaceId} onChange={(e) => setWorkspaceId(e.target.value)} options={workspaces.map((w) => [w.id, w.name])} />
        </>
      )}
      <Field label="Scopes" value={scopes} onChange={(e) => setScopes(e.target.value)} hint={`Comma-separated. * for all; gateway: ${GATEWAY_SCOPES.join(", ")}; admin keys: keys:write, usage:read…`} />
      <TextArea label="Allowed models" value={models} onChange={setModels} hint="One per line; globs like claude-* work. Empty: every model the workspace allows." />
      <TextArea label="IP allow-list" value={ips} onChange={setIps} hint="Addresses or CIDR ranges, one per line. Empty: any address." />
      <TextArea label="Allowed origins" value={origins} onChange={setOrigins} hint="Required for publishable keys, like https://app.example.com." />
      <RateLimitFields rpm={rpm} tpm={tpm} conc={conc} setRpm={setRpm} setTpm={setTpm} setConc={setConc} />
      <SpendLimitFields amount={spend} period={period} setAmount={setSpend} setPeriod={setPeriod} placeholder="e.g. 50.00" />
      <Field label="Expires on" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} hint="Empty: never expires." />
      <TextArea label="Metadata (JSON)" value={metadata} onChange={setMetadata} />
      <ErrorText error={localError ?? error} />
      <div className="buttons"><button type="submit" disabled={busy}>{busy ? "Saving…" : submitLabel}</button></div>
    </form>
  );
}
