/**
 * PATCH /api/v1/credentials/{id}: a credential's base URL, weight, priority, settings and models
 * change without its secret being given again; the change is audited without the secret, checked
 * as a new credential's settings are, and the gateway uses the changed credential at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../src/cli/index.js";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";

const SECRET = "sk-ant-patch-secret-000000000001";

let t: TestApp;
let sim: SimulatorServer;

beforeAll(async () => {
  sim = await createSimulatorServer();
  t = await startSqliteApp();
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

async function ask(key: string): Promise<Response> {
  return fetch(`${t.url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("PATCH /api/v1/credentials/{id}", () => {
  it("moves a credential to another base URL and weight, keeping its secret, and the gateway follows at once", async () => {
    const created = await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "direct", secret: SECRET, base_url: "http://127.0.0.1:1/nowhere" });
    expect(created.status).toBe(201);
    const key = (await t.api("POST", "/api/v1/keys", { name: "caller" })).body.key as string;
    expect((await ask(key)).status).toBe(502);

    const patched = await t.api("PATCH", `/api/v1/credentials/${created.body.id}`, { base_url: sim.url, weight: 7, name: "direct, moved" });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: created.body.id, provider: "anthropic", base_url: sim.url, weight: 7, name: "direct, moved", hint: created.body.hint });
    expect(JSON.stringify(patched.body)).not.toContain(SECRET);

    const r = await ask(key);
    expect(r.status).toBe(200);
    // The simulator saw the stored secret: it was kept, not re-entered.
    expect(sim.stats.byKey.get(SECRET)).toBeGreaterThanOrEqual(1);
    const probe = await t.api("POST", `/api/v1/credentials/${created.body.id}/test`, {});
    expect(probe.body).toMatchObject({ ok: true });

    const audit = await t.api("GET", "/api/v1/audit?limit=20");
    const entry = audit.body.data.find((e: { action: string }) => e.action === "credential.updated");
    expect(entry).toMatchObject({ target: created.body.id, changes: { changed: ["name", "base_url", "weight"], base_url: sim.url, weight: 7 } });
    expect(JSON.stringify(entry)).toContain(sim.url);
    expect(JSON.stringify(audit.body)).not.toContain(SECRET);
  });

  it("refuses a secret, a provider, an unknown setting or settings the provider cannot go without, naming the field", async () => {
    const bedrock = await t.api("POST", "/api/v1/credentials", {
      provider: "bedrock", name: "aws", secret: JSON.stringify({ access_key_id: "AKIAPATCH00000000000", secret_access_key: "patch/secret/0000000000000000000000000" }),
      settings: { region: "us-east-1" },
    });
    expect(bedrock.status).toBe(201);
    const cases: [unknown, string][] = [
      [{ secret: "sk-ant-something-new-0000" }, "secret"],
      [{ provider: "openai" }, "provider"],
      [{ settings: { region: null } }, "settings.region"],
      [{ settings: { api: "invoke-everything" } }, "settings.api"],
      [{ base_url: "https://user:pw@example.com" }, "base_url"],
      [{ weight: 0 }, "weight"],
      // The outbound-address policy applies to a changed base URL as to a new one.
      [{ base_url: "http://10.1.2.3:8080" }, "base_url"],
      // A model entry's API: one of the four, and one Bedrock is reached through.
      [{ models: [{ model: "claude-haiku-4-5", dialect: "soap" }] }, "models.0.dialect"],
      [{ models: ["claude-*", { model: "claude-haiku-4-5", dialect: "chat" }] }, "models.1.dialect"],
    ];
    for (const [body, field] of cases) {
      const r = await t.api("PATCH", `/api/v1/credentials/${bedrock.body.id}`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(r.body), JSON.stringify(body)).toContain(field);
      expect(r.headers.get("x-request-id") ?? r.body.request_id ?? r.body.error?.request_id).toBeTruthy();
    }
    const ok = await t.api("PATCH", `/api/v1/credentials/${bedrock.body.id}`, { settings: { region: "eu-west-1", api: "converse" }, models: [{ model: "claude-haiku-4-5", upstream: "eu.anthropic.claude-haiku-4-5-20251001-v1:0" }] });
    expect(ok.status).toBe(200);
    expect(ok.body.settings).toEqual({ region: "eu-west-1", api: "converse" });
    expect(ok.body.models).toMatchObject([{ model: "claude-haiku-4-5", upstream: "eu.anthropic.claude-haiku-4-5-20251001-v1:0" }]);
    expect((await t.api("PATCH", "/api/v1/credentials/cred_doesnotexist", { weight: 2 })).status).toBe(404);
  });

  it("keeps the API a model entry names, set through the API and through `latchkey credentials add --model-dialect`", async () => {
    const c = await t.api("POST", "/api/v1/credentials", {
      provider: "openai-compatible", name: "chat-only host", secret: "chat-only-host-secret-0000", base_url: `${sim.url}/v1`,
      models: [{ model: "gpt-4o-mini", dialect: "chat" }, "gpt-4o"],
    });
    expect(c.status).toBe(201);
    expect(c.body.models).toMatchObject([{ model: "gpt-4o-mini", dialect: "chat" }, { model: "gpt-4o", dialect: null }]);
    const bad = await t.api("POST", "/api/v1/credentials", { provider: "openai", name: "x", secret: "sk-openai-000000000000", models: [{ model: "gpt-4o", dialect: "gemini" }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("models.0.dialect");
    const code = await run(["node", "latchkey", "--json", "credentials", "add", "--provider", "openai-compatible", "--name", "cli host", "--from-env", "HOST_KEY",
      "--base-url", `${sim.url}/v1`, "--model", "gpt-4o-mini=gpt-4o-mini-2024-07-18", "--model-dialect", "gpt-4o-mini=chat"],
    { LATCHKEY_URL: t.url, LATCHKEY_ADMIN_KEY: t.adminKey, HOST_KEY: "cli-host-secret-000000000" });
    expect(code).toBe(0);
    const list = await t.api("GET", "/api/v1/credentials");
    expect(list.body.data.find((x: { name: string }) => x.name === "cli host").models).toEqual([
      { model: "gpt-4o-mini", upstream: "gpt-4o-mini-2024-07-18", priority: null, weight: null, dialect: "chat", prices: null },
    ]);
    // A dialect for a model not given is refused before anything is sent.
    const refused = await run(["node", "latchkey", "credentials", "add", "--provider", "openai-compatible", "--name", "y", "--from-env", "HOST_KEY", "--model", "a", "--model-dialect", "b=chat"],
      { LATCHKEY_URL: t.url, LATCHKEY_ADMIN_KEY: t.adminKey, HOST_KEY: "cli-host-secret-000000000" });
    expect(refused).not.toBe(0);
  });

  it("is what `latchkey credentials update` calls", async () => {
    const c = await t.api("POST", "/api/v1/credentials", { provider: "vertex", name: "gcp", secret: JSON.stringify({ type: "service_account", client_email: "a@b.iam.gserviceaccount.com", private_key: "x" }), settings: { region: "us-east5", project: "p1" } });
    expect(c.status).toBe(201);
    const code = await run(["node", "latchkey", "--json", "credentials", "update", c.body.id, "--region", "global", "--priority", "2"], { LATCHKEY_URL: t.url, LATCHKEY_ADMIN_KEY: t.adminKey });
    expect(code).toBe(0);
    const list = await t.api("GET", "/api/v1/credentials");
    expect(list.body.data.find((x: { id: string }) => x.id === c.body.id)).toMatchObject({ priority: 2, settings: { region: "global", project: "p1" } });
  });
});
