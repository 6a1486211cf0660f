/** The management API over HTTP on every backend: key lifecycle, validation, scopes, secrecy. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, type TestBackend } from "./support/backends.js";
import { databaseText, startApp, type TestApp } from "./support/app.js";

const all = await backends();

for (const b of all) {
  describe.skipIf(!b.available)(`management API on ${b.name}`, () => {
    let backend: TestBackend;
    let t: TestApp;
    const plaintexts: string[] = [];

    beforeAll(async () => {
      backend = await b.create();
      t = await startApp(backend);
      plaintexts.push(t.adminKey, t.testKey);
    });
    afterAll(async () => {
      await t?.close();
      await backend?.cleanup();
    });

    const counts = async () => ({
      keys: (await t.api("GET", "/api/v1/keys?limit=1000")).body.data.length,
      audit: (await t.api("GET", "/api/v1/audit/verify")).body.count,
    });

    it("creates a key, shows its plaintext once, and never again", async () => {
      const created = await t.api("POST", "/api/v1/keys", { name: "ci", kind: "live", allowed_models: ["claude-*"], metadata: { team: "infra" } });
      expect(created.status).toBe(201);
      expect(created.body.key).toMatch(/^lk_live_[0-9A-Za-z]{36}$/);
      expect(created.body.hint).toBe(`${created.body.key.slice(0, 12)}…${created.body.key.slice(-4)}`);
      plaintexts.push(created.body.key);
      const got = await t.api("GET", `/api/v1/keys/${created.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body.key).toBeUndefined();
      expect(got.body).toMatchObject({ name: "ci", status: "active", allowed_models: ["claude-*"], metadata: { team: "infra" } });
      const v = await t.api("POST", "/api/v1/keys/verify", { key: created.body.key, model: "claude-sonnet-4-6", scope: "messages" });
      expect(v.body).toMatchObject({ valid: true, code: "VALID", key: { id: created.body.id } });
      const denied = await t.api("POST", "/api/v1/keys/verify", { key: created.body.key, model: "gpt-4o" });
      expect(denied.body).toMatchObject({ valid: false, code: "FORBIDDEN_MODEL" });
    });

    it("answers verification of malformed and unknown keys without a record", async () => {
      const bad = await t.api("POST", "/api/v1/keys/verify", { key: "lk_live_notakey" });
      expect(bad.body).toEqual({ valid: false, code: "MALFORMED" });
      const flipped = t.testKey.slice(0, 20) + (t.testKey[20] === "a" ? "b" : "a") + t.testKey.slice(21);
      expect((await t.api("POST", "/api/v1/keys/verify", { key: flipped })).body.code).toBe("MALFORMED");
    });

    it("rolls a key with a grace period and at once", async () => {
      const k = (await t.api("POST", "/api/v1/keys", { name: "rolling" })).body;
      plaintexts.push(k.key);
      const graceful = await t.api("POST", `/api/v1/keys/${k.id}/roll`, { grace_seconds: 3600 });
      expect(graceful.status).toBe(201);
      plaintexts.push(graceful.body.key);
      expect(graceful.body.rolled_from).toBe(k.id);
      expect((await t.api("POST", "/api/v1/keys/verify", { key: k.key })).body.code).toBe("VALID");
      expect((await t.api("POST", "/api/v1/keys/verify", { key: graceful.body.key })).body.code).toBe("VALID");
      const now = await t.api("POST", `/api/v1/keys/${graceful.body.id}/roll`, { grace_seconds: 0 });
      plaintexts.push(now.body.key);
      expect((await t.api("POST", "/api/v1/keys/verify", { key: graceful.body.key })).body.code).toBe("EXPIRED");
      expect((await t.api("GET", `/api/v1/keys/${graceful.body.id}`)).body.status).toBe("expired");
      expect((await t.api("POST", "/api/v1/keys/verify", { key: now.body.key })).body.code).toBe("VALID");
    });

    it("disables, enables and revokes for good; revoked keys stay listed", async () => {
      const k = (await t.api("POST", "/api/v1/keys", { name: "doomed" })).body;
      plaintexts.push(k.key);
      await t.api("POST", `/api/v1/keys/${k.id}/disable`, {});
      expect((await t.api("POST", "/api/v1/keys/verify", { key: k.key })).body.code).toBe("DISABLED");
      await t.api("POST", `/api/v1/keys/${k.id}/enable`, {});
      expect((await t.api("POST", "/api/v1/keys/verify", { key: k.key })).body.code).toBe("VALID");
      expect((await t.api("POST", `/api/v1/keys/${k.id}/revoke`, { reason: "test" })).body.status).toBe("revoked");
      expect((await t.api("POST", "/api/v1/keys/verify", { key: k.key })).body.code).toBe("REVOKED");
      expect((await t.api("POST", `/api/v1/keys/${k.id}/enable`, {})).status).toBe(400);
      const revoked = await t.api("GET", "/api/v1/keys?status=revoked");
      expect(revoked.body.data.map((x: { id: string }) => x.id)).toContain(k.id);
    });

    it("pages through keys with a cursor", async () => {
      const all: string[] = [];
      let after = "";
      for (;;) {
        const page = await t.api("GET", `/api/v1/keys?limit=2${after ? `&after=${after}` : ""}`);
        expect(page.status).toBe(200);
        all.push(...page.body.data.map((k: { id: string }) => k.id));
        if (!page.body.has_more) break;
        after = page.body.last_id;
      }
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBeGreaterThanOrEqual(6);
    });

    it("refuses invalid input with a 400 naming the field, and writes nothing", async () => {
      const k = (await t.api("POST", "/api/v1/keys", { name: "target" })).body;
      plaintexts.push(k.key);
      const before = await counts();
      const cases: [string, string, unknown, string][] = [
        ["POST", "/api/v1/keys", { name: 5 }, "name"],
        ["POST", "/api/v1/keys", { name: "x", colour: "red" }, "colour"],
        ["POST", "/api/v1/keys", { name: "x", metadata: { blob: "x".repeat(5000) } }, "metadata"],
        ["POST", "/api/v1/keys", { name: "x", ip_allowlist: ["10.0.0.0/33"] }, "ip_allowlist"],
        ["POST", "/api/v1/keys", { name: "x", expires_at: "2001-01-01T00:00:00Z" }, "expires_at"],
        ["POST", "/api/v1/keys", { name: "x", kind: "superuser" }, "kind"],
        ["POST", "/api/v1/keys", { name: "x", kind: "publishable" }, "allowed_origins"],
        ["POST", "/api/v1/keys", { name: "x", scopes: ["keys:write"] }, "scopes"],
        ["POST", "/api/v1/keys", { name: "x", spend_limit: { amount_usd: "ten", period: "month" } }, "spend_limit.amount_usd"],
        ["POST", "/api/v1/keys", { name: "x", rate_limits: { requests_per_minute: -1 } }, "rate_limits.requests_per_minute"],
        ["PATCH", `/api/v1/keys/${k.id}`, { expires_at: "2001-01-01T00:00:00Z" }, "expires_at"],
        ["PATCH", `/api/v1/keys/${k.id}`, { ip_allowlist: ["not-an-ip"] }, "ip_allowlist"],
        ["PATCH", `/api/v1/keys/${k.id}`, { workspace_id: "wrk_x" }, "workspace_id"],
        ["POST", `/api/v1/keys/${k.id}/roll`, { grace_seconds: -5 }, "grace_seconds"],
        ["GET", "/api/v1/keys?after=bogus", undefined, "after"],
        ["GET", "/api/v1/keys?limit=0", undefined, "limit"],
        ["POST", "/api/v1/workspaces", { name: "" }, "name"],
        ["PATCH", "/api/v1/organization", { spend_limit: { amount_usd: "1", period: "year" } }, "spend_limit.period"],
        ["PATCH", "/api/v1/organization", { alert_thresholds: [50, 0] }, "alert_thresholds.1"],
        ["POST", "/api/v1/keys/lookup", { sha256: ["XYZ"] }, "sha256.0"],
        ["GET", "/api/v1/audit?since=yesterday", undefined, "since"],
      ];
      for (const [method, path, body, field] of cases) {
        const r = await t.api(method, path, body);
        expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
        expect(r.body.error.fields.map((f: { field: string }) => f.field), `${method} ${path}`).toContain(field);
        expect(r.body.error.request_id).toMatch(/^req_/);
      }
      expect(await counts()).toEqual(before);
    });

    it("answers malformed JSON, oversized bodies and unknown routes in the management shape", async () => {
      const malformed = await t.api("POST", "/api/v1/keys", "{not json");
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.message).toMatch(/not valid JSON/);
      const big = await t.api("POST", "/api/v1/keys", JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) }));
      expect(big.status).toBe(413);
      const missing = await t.api("GET", "/api/v1/nope");
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("not_found");
    });

    it("enforces admin scopes and refuses gateway keys on the management API", async () => {
      const reader = (await t.api("POST", "/api/v1/keys", { name: "reader", kind: "admin", scopes: ["keys:read"] })).body;
      plaintexts.push(reader.key);
      expect((await t.api("GET", "/api/v1/keys", undefined, reader.key)).status).toBe(200);
      const denied = await t.api("POST", "/api/v1/keys", { name: "nope" }, reader.key);
      expect(denied.status).toBe(403);
      expect(denied.body.error.message).toMatch(/keys:write/);
      expect((await t.api("GET", "/api/v1/keys", undefined, t.testKey)).status).toBe(403);
      expect((await t.api("GET", "/api/v1/keys", undefined, "lk_admin_nonsense")).status).toBe(401);
      const anonymous = await fetch(`${t.url}/api/v1/keys`);
      expect(anonymous.status).toBe(401);
    });

    it("looks keys up by the SHA-256 of their plaintext", async () => {
      const { createHash } = await import("node:crypto");
      const sha = createHash("sha256").update(t.testKey).digest("hex");
      const r = await t.api("POST", "/api/v1/keys/lookup", { sha256: [sha, "0".repeat(64)] });
      expect(r.body.data[0]).toMatchObject({ found: true, key: { kind: "test", status: "active" } });
      expect(r.body.data[1]).toMatchObject({ found: false, key: null });
    });

    it("manages workspaces: keys of an archived workspace stop working", async () => {
      const ws = (await t.api("POST", "/api/v1/workspaces", { name: "Research", allowed_models: ["gpt-*"], spend_limit: { amount_usd: "100", period: "month" } })).body;
      expect(ws.spend_limit).toMatchObject({ amount_usd: "100.000000", amount_nano_usd: 100_000_000_000, period: "month" });
      const k = (await t.api("POST", "/api/v1/keys", { name: "research", workspace_id: ws.id })).body;
      plaintexts.push(k.key);
      expect((await t.api("POST", "/api/v1/keys/verify", { key: k.key, model: "claude-haiku-4-5" })).body.code).toBe("FORBIDDEN_MODEL");
      expect((await t.api("POST", "/api/v1/keys/verify", { key: k.key, model: "gpt-4o" })).body.code).toBe("VALID");
      expect((await t.api("POST", `/api/v1/workspaces/${ws.id}/archive`, {})).body.archived_at).not.toBeNull();
      expect((await t.api("POST", "/api/v1/keys/verify", { key: k.key })).body.code).toBe("DISABLED");
      expect((await t.api("POST", "/api/v1/keys", { name: "late", workspace_id: ws.id })).status).toBe(400);
    });

    it("records every change in an intact audit chain", async () => {
      const events = await t.api("GET", "/api/v1/audit?limit=1000");
      const actions = new Set(events.body.data.map((e: { action: string }) => e.action));
      for (const a of ["key.created", "key.rolled", "key.revoked", "key.disabled", "workspace.created", "workspace.archived"]) expect(actions).toContain(a);
      expect((await t.api("GET", "/api/v1/audit/verify")).body).toMatchObject({ ok: true });
    });

    it("keeps the organization's alert thresholds sorted, and null restores the defaults", async () => {
      const set = await t.api("PATCH", "/api/v1/organization", { alert_thresholds: [90, 25, 90] });
      expect(set.body.settings.alert_thresholds).toEqual([25, 90]);
      const cleared = await t.api("PATCH", "/api/v1/organization", { alert_thresholds: null });
      expect(cleared.body.settings.alert_thresholds).toBeUndefined();
    });

    it("serves an OpenAPI 3.1 document built from the validation schemas", async () => {
      const doc = (await t.api("GET", "/api/v1/openapi.json")).body;
      expect(doc.openapi).toBe("3.1.0");
      expect(doc.paths["/api/v1/keys"].post.requestBody.content["application/json"].schema.properties.name).toBeDefined();
      expect(doc.paths["/api/v1/keys/{id}/roll"].post).toBeDefined();
    });

    it("never stores, logs or audits a plaintext key", async () => {
      await t.app.services.verifier.flushLastUsed();
      const dbText = await databaseText(t, backend);
      const audit = JSON.stringify((await t.api("GET", "/api/v1/audit?limit=1000")).body);
      const logs = t.logs.join("\n");
      expect(plaintexts.length).toBeGreaterThanOrEqual(10);
      for (const p of plaintexts) {
        expect(dbText.includes(p), "database").toBe(false);
        expect(audit.includes(p), "audit").toBe(false);
        expect(logs.includes(p), "logs").toBe(false);
      }
      expect(dbText.length).toBeGreaterThan(1000);
    });
  });
}
