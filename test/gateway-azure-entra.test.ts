/**
 * Azure OpenAI with an Entra ID app (client-credential flow) end to end: a real `latchkey up`
 * whose @azure/identity ClientSecretCredential is pointed, by the credential's authority_host, at
 * the simulator playing Entra ID's token endpoint over HTTPS (the library refuses a plain-HTTP
 * authority; the test's CA is trusted through NODE_EXTRA_CA_CERTS, as an operator with a private
 * CA would do). The simulated Azure OpenAI takes only the tokens that endpoint minted, for its
 * audience and unexpired; the OpenAI SDK calls the gateway unchanged.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startUp } from "./support/processes.js";

const APP = { tenantId: "7f1c9a3e-0000-4000-8000-00000000tid1", clientId: "0b5e2d7a-0000-4000-8000-0000000app01", clientSecret: "entra~client~secret~000000000001" };

let dir: string;
let sim: SimulatorServer;
let up: { proc: ChildProcess; url: string; admin: string | null };

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${up.url}${path}`, {
    method, headers: { authorization: `Bearer ${up.admin}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "latchkey-entra-"));
  // A certificate for 127.0.0.1, made by openssl (Node has no API to issue one).
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`this suite needs openssl to make a test certificate: ${made.error?.message ?? made.stderr}`);
  sim = await createSimulatorServer({
    tls: { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
    clouds: { entraApps: [APP], azureDeployments: { "chat-prod": "gpt-4o-mini" } },
  });
  up = await startUp(join(dir, "data"), { NODE_EXTRA_CA_CERTS: join(dir, "cert.pem") });
  expect(up.admin).toMatch(/^lk_admin_/);
}, 60_000);
afterAll(async () => {
  up?.proc.kill("SIGTERM");
  await new Promise((r) => (up?.proc.exitCode !== null ? r(null) : up.proc.once("exit", r)));
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const entraSecret = (clientSecret: string) => JSON.stringify({ tenant_id: APP.tenantId, client_id: APP.clientId, client_secret: clientSecret });

describe("Azure OpenAI through an Entra ID token", () => {
  it("mints a token at the authority host, proves the credential, and answers the OpenAI SDK with it", async () => {
    const cred = await api("POST", "/api/v1/credentials", {
      provider: "azure-openai", name: "azure entra", secret: entraSecret(APP.clientSecret), base_url: sim.url,
      settings: { api_version: "2024-10-21", authority_host: sim.url }, models: [{ model: "gpt-4o-mini", upstream: "chat-prod" }],
    });
    expect(cred.status).toBe(201);
    const probe = await api("POST", `/api/v1/credentials/${cred.body.id}/test`);
    expect(probe.body).toMatchObject({ ok: true, status: 200 });
    const key = (await api("POST", "/api/v1/keys", { name: "entra caller" })).body.key as string;
    const openai = new OpenAI({ apiKey: key, baseURL: `${up.url}/v1`, maxRetries: 0 });
    const minted = sim.cloud.seen.entraTokens;
    const r = await openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello azure sim-tokens:4" }] });
    expect(r.choices[0]!.message.content).toBe("Hello from the Latchkey");
    let streamed = "";
    for await (const c of await openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello azure sim-tokens:4" }], stream: true })) {
      streamed += c.choices[0]?.delta.content ?? "";
    }
    expect(streamed).toBe(r.choices[0]!.message.content);
    // Bearer tokens, never an api-key; the gateway's token was minted once and reused.
    expect(sim.cloud.seen.azureAuth.slice(-2)).toEqual(["bearer", "bearer"]);
    expect(sim.cloud.seen.entraTokens - minted).toBeLessThanOrEqual(1);
    expect(sim.cloud.seen.entraTokens).toBeGreaterThanOrEqual(1);

    // Azure refuses an expired token; the gateway mints a new one and the next request passes.
    const before = sim.cloud.seen.entraTokens;
    sim.cloud.entra.expireAll();
    const refused = await fetch(`${up.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    // Azure refused the gateway's token, not the caller's key: a 502 in OpenAI's shape, never a 401.
    expect(refused.status).toBe(502);
    const refusal = (await refused.json()) as { error: { type: string; message: string } };
    expect(refusal.error.message).toContain("have expired");
    const deadline = Date.now() + 15_000;
    while (sim.cloud.seen.entraTokens === before && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    expect(sim.cloud.seen.entraTokens).toBe(before + 1);
    const again = await openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    expect(again.choices[0]!.message.role).toBe("assistant");
  });

  it("reports a wrong client secret as failing, in the credential test, without the secret", async () => {
    const wrong = "entra~client~secret~not-the-one";
    const azureCalls = sim.cloud.seen.azureAuth.length;
    const cred = await api("POST", "/api/v1/credentials", {
      provider: "azure-openai", name: "azure wrong", secret: entraSecret(wrong), base_url: sim.url,
      settings: { api_version: "2024-10-21", authority_host: sim.url }, models: [{ model: "gpt-4o", upstream: "chat-prod" }],
    });
    const probe = await api("POST", `/api/v1/credentials/${cred.body.id}/test`);
    expect(probe.body).toMatchObject({ ok: false, status: null });
    expect(sim.cloud.seen.azureAuth.length).toBe(azureCalls);
    expect(JSON.stringify(probe.body)).not.toContain(wrong);
  });
});
