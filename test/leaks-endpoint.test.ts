/** The GitHub secret-scanning endpoint: a signed report revokes the key; a bad signature changes nothing. */
import { createSign, generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqliteApp, type TestApp } from "./support/app.js";

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const KEY_ID = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a";

function sign(body: string): string {
  return createSign("sha256").update(body).sign(privateKey).toString("base64");
}

function gatewayCall(t: TestApp, key: string) {
  return fetch(`${t.url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
  });
}

describe("leak reports", () => {
  let t: TestApp;
  beforeAll(async () => {
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    t = await startSqliteApp({ githubPublicKeys: JSON.stringify([{ key_identifier: KEY_ID, key: pem }]) });
  });
  afterAll(async () => t?.close());

  const post = (body: string, signature: string | null) => fetch(`${t.url}/api/v1/leaks/github`, {
    method: "POST",
    headers: { "content-type": "application/json", "github-public-key-identifier": KEY_ID, ...(signature ? { "github-public-key-signature": signature } : {}) },
    body,
  });

  it("refuses unsigned and badly signed reports and changes nothing", async () => {
    const k = (await t.api("POST", "/api/v1/keys", { name: "victim", kind: "test" })).body;
    const body = JSON.stringify([{ token: k.key, type: "latchkey_api_key", url: "https://github.com/o/r/blob/x/a.env", source: "content" }]);
    expect((await post(body, null)).status).toBe(401);
    expect((await post(body, sign(`${body} `))).status).toBe(401);
    expect((await gatewayCall(t, k.key)).status).toBe(200);
    expect((await t.api("GET", `/api/v1/keys/${k.id}`)).body.status).toBe("active");
  });

  it("revokes a reported live key at once and answers the feedback array", async () => {
    const k = (await t.api("POST", "/api/v1/keys", { name: "leaky", kind: "test" })).body;
    expect((await gatewayCall(t, k.key)).status).toBe(200);
    const body = JSON.stringify([
      { token: k.key, type: "latchkey_api_key", url: "https://github.com/o/r/blob/x/a.env", source: "content" },
      { token: "lk_live_not_a_real_key_at_all_000000000000", type: "latchkey_api_key", url: "", source: "commit" },
    ]);
    const r = await post(body, sign(body));
    expect(r.status).toBe(200);
    const feedback = (await r.json()) as { label: string }[];
    expect(feedback.map((f: { label: string }) => f.label)).toEqual(["true_positive", "false_positive"]);
    expect((await t.api("GET", `/api/v1/keys/${k.id}`)).body.status).toBe("revoked");
    const refused = await gatewayCall(t, k.key);
    expect(refused.status).toBe(401);
    const audit = (await t.api("GET", `/api/v1/audit?target=${k.id}`)).body.data;
    expect(audit[0]).toMatchObject({ action: "key.revoked", actor: "github-secret-scanning" });
    expect(JSON.stringify(audit)).not.toContain(k.key);
    const alerts = (await t.api("GET", "/api/v1/alerts?limit=100")).body.data as { type: string; subject_id: string; data: { found: { url: string } } }[];
    const leak = alerts.filter((a) => a.type === "key.leaked" && a.subject_id === k.id);
    expect(leak).toHaveLength(1);
    expect(leak[0]!.data.found.url).toBe("https://github.com/o/r/blob/x/a.env");
    // Reported again: still one alert.
    expect((await post(body, sign(body))).status).toBe(200);
    expect((await t.api("GET", "/api/v1/alerts?limit=100")).body.data.filter((a: { type: string; subject_id: string }) => a.type === "key.leaked" && a.subject_id === k.id)).toHaveLength(1);
    expect(t.logs.join("\n")).not.toContain(k.key);
  });

  it("revokes a key reported by hand", async () => {
    const k = (await t.api("POST", "/api/v1/keys", { name: "pasted", kind: "test" })).body;
    const r = await t.api("POST", `/api/v1/keys/${k.id}/report-leak`, { url: "https://chat.example.com/msg/1" });
    expect(r.body.status).toBe("revoked");
    expect((await gatewayCall(t, k.key)).status).toBe(401);
  });
});
