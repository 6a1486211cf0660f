/**
 * The security review's access-control findings, each replayed against a real server as the
 * attacker tried it. Every one of these succeeded on b400097.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqliteApp, type TestApp } from "./support/app.js";
import { anonymous, invite, keyCaller, signUpOwner, type Caller } from "./support/people.js";

describe("access control findings", () => {
  let t: TestApp;
  let owner: Caller;
  let admin: Caller;
  let dev: { call: Caller; id: string };
  let wsA: string;
  let wsB: string;

  const adminKey = async (scopes: string[]) => {
    const k = await t.api("POST", "/api/v1/keys", { name: `admin ${scopes.join(" ")}`, kind: "admin", scopes });
    expect(k.status).toBe(201);
    return k.body as { id: string; key: string };
  };

  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal" });
    owner = await signUpOwner(t);
    wsA = (await t.api("POST", "/api/v1/workspaces", { name: "Team A" })).body.id;
    wsB = (await t.api("POST", "/api/v1/workspaces", { name: "Team B" })).body.id;
    admin = (await invite(t, owner, "admin@example.com", "admin")).call;
    dev = await invite(t, owner, "dev@example.com", "developer", [wsA]);
  });
  afterAll(async () => t?.close());

  it("critical: a developer or a console admin cannot mint an admin key with every scope", async () => {
    for (const body of [
      { name: "x", kind: "admin", workspace_id: wsA, scopes: ["*"] },
      { name: "x", kind: "admin", workspace_id: wsA },
      { name: "x", kind: "admin", workspace_id: wsA, scopes: ["keys:read"] },
    ]) {
      const r = await dev.call("POST", "/api/v1/keys", body);
      expect(r.status, JSON.stringify(body)).toBe(403);
    }
    expect((await admin("POST", "/api/v1/keys", { name: "x", kind: "admin", scopes: ["*"] })).status).toBe(403);
    expect((await admin("POST", "/api/v1/keys", { name: "x", kind: "admin" })).status).toBe(403);
    // Within their power, an admin still makes admin keys.
    expect((await admin("POST", "/api/v1/keys", { name: "ok", kind: "admin", scopes: ["keys:read"] })).status).toBe(201);
    const keys = await t.api("GET", "/api/v1/keys?kind=admin&limit=100");
    expect(keys.body.data.filter((k: { scopes: string[]; created_by: string }) => k.scopes.includes("*") && k.created_by !== "system")).toEqual([]);
  });

  it("high: a keys:write key cannot widen its own scopes, nor roll a '*' key into a new '*' plaintext", async () => {
    const weak = await adminKey(["keys:write"]);
    const asWeak = keyCaller(t, weak.key);
    expect((await asWeak("PATCH", `/api/v1/keys/${weak.id}`, { scopes: ["*"] })).status).toBe(403);
    expect((await asWeak("PATCH", `/api/v1/keys/${weak.id}`, { scopes: ["keys:write", "users:write"] })).status).toBe(403);
    const strong = await adminKey(["*"]);
    const rolled = await asWeak("POST", `/api/v1/keys/${strong.id}/roll`, { grace_seconds: 0 });
    expect(rolled.status).toBe(403);
    expect(rolled.body.key).toBeUndefined();
    expect((await asWeak("POST", `/api/v1/keys/${strong.id}/revoke`, {})).status).toBe(403);
    expect((await t.api("GET", `/api/v1/keys/${weak.id}`)).body.scopes).toEqual(["keys:write"]);
  });

  it("high: a users:write key cannot invite an owner (or anyone above its own power)", async () => {
    const k = await adminKey(["users:write"]);
    const r = await keyCaller(t, k.key)("POST", "/api/v1/users/invitations", { email: "evil@example.com", role: "owner" });
    expect(r.status).toBe(403);
    expect((await keyCaller(t, k.key)("POST", "/api/v1/users/invitations", { email: "evil2@example.com", role: "admin" })).status).toBe(403);
    expect((await admin("POST", "/api/v1/users/invitations", { email: "evil3@example.com", role: "owner" })).status).toBe(403);
  });

  it("medium: a developer cannot revoke an admin key through report-leak, nor keys of other workspaces", async () => {
    const target = await adminKey(["usage:read"]);
    const inB = (await t.api("POST", "/api/v1/keys", { name: "b", workspace_id: wsB, kind: "test" })).body;
    expect((await dev.call("POST", `/api/v1/keys/${target.id}/report-leak`, { note: "x" })).status).toBe(403);
    expect((await dev.call("POST", `/api/v1/keys/${inB.id}/report-leak`, { note: "x" })).status).toBe(403);
    expect((await dev.call("POST", `/api/v1/keys/${inB.id}/revoke`, {})).status).toBe(403);
    expect((await t.api("GET", `/api/v1/keys/${target.id}`)).body.status).toBe("active");
    expect((await t.api("GET", `/api/v1/keys/${inB.id}`)).body.status).toBe("active");
  });

  it("medium: a developer reads neither other workspaces, nor org-wide alerts, nor other workspaces' keys by lookup", async () => {
    expect((await dev.call("GET", `/api/v1/workspaces/${wsB}`)).status).toBe(403);
    expect((await dev.call("GET", `/api/v1/workspaces/${wsA}`)).status).toBe(200);
    expect((await dev.call("GET", "/api/v1/alerts")).status).toBe(403);
    const inB = (await t.api("POST", "/api/v1/keys", { name: "b2", workspace_id: wsB, kind: "test" })).body;
    const { createHash } = await import("node:crypto");
    const sha = createHash("sha256").update(inB.key).digest("hex");
    const found = await dev.call("POST", "/api/v1/keys/lookup", { sha256: [sha] });
    expect(found.status).toBe(200);
    expect(found.body.data[0]).toMatchObject({ found: false, key: null });
  });

  it("medium: a developer cannot remove limits an admin set on their key, only tighten them", async () => {
    const k = await dev.call("POST", "/api/v1/keys", { name: "dev", workspace_id: wsA, kind: "test" });
    expect(k.status).toBe(201);
    const limited = await t.api("PATCH", `/api/v1/keys/${k.body.id}`, {
      rate_limits: { requests_per_minute: 10 }, spend_limit: { amount_usd: "5", period: "month" }, allowed_models: ["claude-haiku-4-5"],
    });
    expect(limited.status).toBe(200);
    for (const body of [{ rate_limits: null }, { spend_limit: null }, { rate_limits: { requests_per_minute: 1000 } },
      { spend_limit: { amount_usd: "500", period: "month" } }, { allowed_models: null }, { allowed_models: ["*"] }]) {
      expect((await dev.call("PATCH", `/api/v1/keys/${k.body.id}`, body)).status, JSON.stringify(body)).toBe(403);
    }
    expect((await dev.call("PATCH", `/api/v1/keys/${k.body.id}`, { rate_limits: { requests_per_minute: 5 } })).status).toBe(200);
    expect((await t.api("GET", `/api/v1/keys/${k.body.id}`)).body.rate_limits.requests_per_minute).toBe(5);
  });

  it("critical: keys a user minted stop working when the user is removed, and the change is audited", async () => {
    const leaver = await invite(t, owner, "leaver@example.com", "developer", [wsA]);
    const k = await leaver.call("POST", "/api/v1/keys", { name: "leaver's", workspace_id: wsA, kind: "test" });
    expect(k.status).toBe(201);
    expect((await t.api("POST", "/api/v1/keys/verify", { key: k.body.key })).body.code).toBe("VALID");
    expect((await owner("DELETE", `/api/v1/users/${leaver.id}`)).status).toBe(200);
    expect((await t.api("POST", "/api/v1/keys/verify", { key: k.body.key })).body.code).toBe("DISABLED");
    const audit = await t.api("GET", `/api/v1/audit?action=key.disabled&target=${k.body.id}`);
    expect(audit.body.data).toHaveLength(1);
  });

  it("keys a user minted are disabled when they lose the role that allowed them", async () => {
    const mover = await invite(t, owner, "mover@example.com", "developer", [wsA]);
    const k = await mover.call("POST", "/api/v1/keys", { name: "mover's", workspace_id: wsA, kind: "test" });
    expect((await owner("PATCH", `/api/v1/users/${mover.id}`, { workspace_ids: [wsB] })).status).toBe(200);
    expect((await t.api("GET", `/api/v1/keys/${k.body.id}`)).body.status).toBe("disabled");
  });

  it("low: verify tells an anonymous caller nothing about a revoked or admin key", async () => {
    const anon = anonymous(t);
    const live = (await t.api("POST", "/api/v1/keys", { name: "secret name", kind: "test", metadata: { customer: "acme" } })).body;
    await t.api("POST", `/api/v1/keys/${live.id}/revoke`, {});
    const revoked = await anon("POST", "/api/v1/keys/verify", { key: live.key });
    expect(revoked.body).toEqual({ valid: false, code: "REVOKED" });
    const adm = await adminKey(["keys:read"]);
    const asAdmin = await anon("POST", "/api/v1/keys/verify", { key: adm.key });
    expect(asAdmin.body).toEqual({ valid: false, code: "NOT_FOUND" });
    expect(JSON.stringify(asAdmin.body)).not.toContain(adm.id);
  });

  it("low: publishable keys need origins, models and a limit; no '*' free-for-all", async () => {
    const r = await t.api("POST", "/api/v1/keys", { name: "p", kind: "publishable", allowed_origins: ["https://app.example.com"] });
    expect(r.status).toBe(400);
    expect(r.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(["allowed_models", "rate_limits"]);
    const ok = await t.api("POST", "/api/v1/keys", {
      name: "p", kind: "publishable", allowed_origins: ["https://app.example.com"], allowed_models: ["claude-haiku-4-5"], rate_limits: { requests_per_minute: 30 },
    });
    expect(ok.status).toBe(201);
  });
});
