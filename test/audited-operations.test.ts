/**
 * Every audited management operation on SQLite (one connection) under a short statement timeout:
 * each completes, writes its audit record, and leaves the server answering — health, readiness,
 * the management API and the gateway — within two seconds (a loaded machine's margin). The invitation delete used to run its
 * DELETE beside the audit transaction and wait for ever on the connection that transaction held,
 * freezing every later database call (the gateway's too) while /healthz still said 200.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqliteApp, type TestApp } from "./support/app.js";

const FAST_MS = 2_000;

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, {
    method, signal: AbortSignal.timeout(5_000),
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** The audit actions the code can write: every action handed to audited() or written by bootstrap, and the key service's. */
function auditActionsInSource(): string[] {
  const found = new Set<string>();
  const read = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts")).map((f) => readFileSync(join(dir, f), "utf8"));
  for (const text of read("src/admin")) {
    for (const m of text.matchAll(/audited\([^"]*?"([a-z_]+\.[a-z_]+)"|action: "([a-z_]+\.[a-z_]+)"/g)) found.add((m[1] ?? m[2])!);
  }
  for (const text of read("src/keys")) for (const m of text.matchAll(/"(key\.[a-z_]+)"/g)) found.add(m[1]!);
  return [...found].sort();
}

describe("every audited operation on SQLite under a statement timeout", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startSqliteApp({ statementTimeoutMs: 500 });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Health, readiness, a management read and a gateway call, all answered within FAST_MS. */
  async function answersAtOnce(): Promise<void> {
    const started = Date.now();
    const [health, ready, keys, gateway] = await Promise.all([
      call(t.url, "GET", "/healthz"),
      call(t.url, "GET", "/readyz"),
      call(t.url, "GET", "/api/v1/keys?limit=1", undefined, { authorization: `Bearer ${t.adminKey}` }),
      call(t.url, "POST", "/v1/messages", { model: "claude-sonnet-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }, { "x-api-key": t.testKey, "anthropic-version": "2023-06-01" }),
    ]);
    expect([health.status, ready.status, keys.status, gateway.status]).toEqual([200, 200, 200, 200]);
    expect(Date.now() - started).toBeLessThan(FAST_MS);
  }

  it("withdraws an unknown invitation with a 404 and keeps answering (the freeze)", async () => {
    const started = Date.now();
    const r = await call(t.url, "DELETE", "/api/v1/users/invitations/inv_doesnotexist", undefined, { authorization: `Bearer ${t.adminKey}` });
    expect(r.status).toBe(404);
    expect(Date.now() - started).toBeLessThan(FAST_MS);
    await answersAtOnce();
    // Refused inside its transaction: no audit record claims a withdrawal.
    const audit = await t.api("GET", "/api/v1/audit?action=invitation.deleted");
    expect(audit.body.data).toEqual([]);
  });

  it("completes each audited operation, records it, and keeps answering after each", async () => {
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await t.api(method, path, body);
      expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
      await answersAtOnce();
      return r.body;
    };
    const password = "correct horse battery";
    const token = new URL(t.app.bootstrap!.setupUrl!, t.url).searchParams.get("token")!;
    const setup = await call(t.url, "POST", "/api/v1/setup", { token, email: "owner@example.com", password }, { origin: t.url });
    expect(setup.status).toBe(201);
    await answersAtOnce();
    const signIn = await call(t.url, "POST", "/api/v1/session", { email: "owner@example.com", password }, { origin: t.url });
    expect(signIn.status).toBe(200);
    await answersAtOnce();

    await api("PATCH", "/api/v1/organization", { name: "Renamed", spend_limit: { amount_usd: "100", period: "month" } });
    const ws = await api("POST", "/api/v1/workspaces", { name: "team" });
    await api("PATCH", `/api/v1/workspaces/${ws.id}`, { name: "team two" });
    const key = await api("POST", "/api/v1/keys", { name: "k", workspace_id: ws.id });
    await api("PATCH", `/api/v1/keys/${key.id}`, { name: "k2" });
    await api("POST", `/api/v1/keys/${key.id}/disable`, {});
    await api("POST", `/api/v1/keys/${key.id}/enable`, {});
    const rolled = await api("POST", `/api/v1/keys/${key.id}/roll`, { grace_seconds: 60 });
    await api("POST", `/api/v1/keys/${rolled.id}/revoke`, {});
    const leaky = await api("POST", "/api/v1/keys", { name: "leaky" });
    await api("POST", `/api/v1/keys/${leaky.id}/report-leak`, { url: "https://example.com/paste" });
    const cred = await api("POST", "/api/v1/credentials", { provider: "anthropic", name: "a", secret: "sk-ant-test-secret" });
    await api("PATCH", `/api/v1/credentials/${cred.id}`, { name: "a2", weight: 3 });
    await api("DELETE", `/api/v1/credentials/${cred.id}`);
    await api("PATCH", "/api/v1/credits/settings", { credits_enabled: true });
    await api("POST", "/api/v1/credits", { amount_usd: "5", note: "first" });
    await api("POST", "/api/v1/models", { id: "house-model", provider: "openai", max_output_tokens: 1000, pricing: { input_usd_per_mtok: "1", output_usd_per_mtok: "2" } });
    await api("PATCH", "/api/v1/models/house-model", { display_name: "House" });
    await api("POST", "/api/v1/models/import", {
      models: [{ id: "imported-model", provider: "openai", max_output_tokens: 1000, pricing: { input_usd_per_mtok: "1", output_usd_per_mtok: "2" } }],
      families: [{ pattern: "house-*", provider: "openai", max_output_tokens: 1000, pricing: { input_usd_per_mtok: "1", output_usd_per_mtok: "2" } }],
    });
    const hook = await api("POST", "/api/v1/webhooks", { url: "https://example.com/hook", events: ["*"] });
    await api("DELETE", `/api/v1/webhooks/${hook.id}`);
    const inv = await api("POST", "/api/v1/users/invitations", { email: "dev@example.com", role: "developer", workspace_ids: [ws.id] });
    await api("DELETE", `/api/v1/users/invitations/${inv.id}`);
    const inv2 = await api("POST", "/api/v1/users/invitations", { email: "viewer@example.com", role: "viewer" });
    const accepted = await call(t.url, "POST", "/api/v1/invitations/accept", { token: inv2.token, password }, { origin: t.url });
    expect(accepted.status).toBe(201);
    await api("PATCH", `/api/v1/users/${accepted.body.user.id}`, { name: "Vee" });
    await api("DELETE", `/api/v1/users/${accepted.body.user.id}`);
    await api("POST", `/api/v1/workspaces/${ws.id}/archive`, {});
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const revoked = await call(t.url, "POST", "/api/v1/session/revoke-all", {}, { cookie, origin: t.url, "x-csrf-token": signIn.body.csrf_token });
    expect(revoked.status).toBe(200);
    await answersAtOnce();

    const actions = new Set<string>();
    let before: number | undefined;
    for (;;) {
      const page = await t.api("GET", `/api/v1/audit?limit=100${before ? `&before=${before}` : ""}`);
      for (const e of page.body.data) actions.add(e.action);
      if (!page.body.has_more) break;
      before = page.body.data.at(-1).seq;
    }
    // Every action the code can audit was exercised here (a new one fails this until it is added above).
    expect([...actions].sort()).toEqual(auditActionsInSource());
    expect((await t.api("GET", "/api/v1/audit/verify")).body).toMatchObject({ ok: true, broken_at: null });
  });
});
