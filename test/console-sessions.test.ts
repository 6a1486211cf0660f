/** Console people over HTTP on every backend: first owner, sign-in, roles enforced on the server, CSRF, sessions. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, type TestBackend } from "./support/backends.js";
import { startApp, type TestApp } from "./support/app.js";

interface Browserish {
  cookie: string;
  csrf: string;
  call(method: string, path: string, body?: unknown, extra?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

async function raw(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, {
    method, headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** A client that behaves like the console: cookie, CSRF header and same Origin on changes. */
function browser(url: string, setCookie: string | null, csrf: string): Browserish {
  const cookie = (setCookie ?? "").split(";")[0]!;
  return {
    cookie, csrf,
    call: (method, path, body, extra = {}) => raw(url, method, path, body, { cookie, origin: url, ...(method === "GET" ? {} : { "x-csrf-token": csrf }), ...extra }),
  };
}

const all = await backends();

for (const b of all) {
  describe.skipIf(!b.available)(`console sessions on ${b.name}`, () => {
    let backend: TestBackend;
    let t: TestApp;
    let owner: Browserish;
    const password = "correct horse battery";

    beforeAll(async () => {
      backend = await b.create();
      t = await startApp(backend);
    });
    afterAll(async () => {
      await t?.close();
      await backend?.cleanup();
    });

    it("creates the first owner only with the one-time setup link", async () => {
      const link = t.app.bootstrap?.setupUrl;
      expect(link).toMatch(/^\/console\/setup\?token=/);
      const token = new URL(link!, t.url).searchParams.get("token")!;
      expect((await raw(t.url, "GET", "/api/v1/setup")).body).toEqual({ needs_owner: true });
      const wrong = await raw(t.url, "POST", "/api/v1/setup", { token: "nope", email: "owner@example.com", password });
      expect(wrong.status).toBe(403);
      const weak = await raw(t.url, "POST", "/api/v1/setup", { token, email: "owner@example.com", password: "short" });
      expect(weak.status).toBe(400);
      // Two sign-ups race with the same link: exactly one becomes the owner.
      const both = await Promise.all([1, 2].map(() => raw(t.url, "POST", "/api/v1/setup", { token, email: "Owner@Example.com", password, name: "Olive" })));
      expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
      const made = both.find((r) => r.status === 201)!;
      const cookie = made.headers.get("set-cookie")!;
      expect(cookie).toMatch(/^latchkey_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
      expect(made.body).toMatchObject({ user: { email: "owner@example.com", role: "owner" }, role: "owner", scopes: ["*"] });
      owner = browser(t.url, cookie, made.body.csrf_token);
      const again = await raw(t.url, "POST", "/api/v1/setup", { token, email: "second@example.com", password });
      expect(again.status).toBe(409);
      expect((await raw(t.url, "GET", "/api/v1/setup")).body).toEqual({ needs_owner: false });
    });

    it("answers who is signed in, with the CSRF token", async () => {
      const me = await owner.call("GET", "/api/v1/session");
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ type: "user", role: "owner", csrf_token: owner.csrf, user: { email: "owner@example.com" } });
      expect((await raw(t.url, "GET", "/api/v1/session")).status).toBe(401);
    });

    it("keeps only hashes of session tokens", async () => {
      const token = owner.cookie.split("=")[1]!;
      const rows = await t.app.database.db.selectFrom("user_sessions").selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(token);
      const users = await t.app.database.db.selectFrom("users").select("password_hash").execute();
      expect(users[0]!.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    });

    it("refuses a session change without the CSRF token or from another origin; a bearer key needs neither", async () => {
      const noToken = await raw(t.url, "POST", "/api/v1/workspaces", { name: "forged" }, { cookie: owner.cookie });
      expect(noToken.status).toBe(403);
      expect(noToken.body.error.message).toMatch(/csrf/i);
      const wrongToken = await owner.call("POST", "/api/v1/workspaces", { name: "forged" }, { "x-csrf-token": "0".repeat(64) });
      expect(wrongToken.status).toBe(403);
      const otherSite = await owner.call("POST", "/api/v1/workspaces", { name: "forged" }, { origin: "https://evil.example" });
      expect(otherSite.status).toBe(403);
      const ok = await owner.call("POST", "/api/v1/workspaces", { name: "Team A" });
      expect(ok.status).toBe(201);
      expect((await t.api("POST", "/api/v1/workspaces", { name: "By key" })).status).toBe(201);
      const names = (await owner.call("GET", "/api/v1/workspaces")).body.data.map((w: { name: string }) => w.name);
      expect(names).not.toContain("forged");
    });

    it("invites people with roles, and the server enforces each role", async () => {
      const wsA = (await owner.call("GET", "/api/v1/workspaces")).body.data.find((w: { name: string }) => w.name === "Team A").id;
      const invite = async (email: string, role: string, workspace_ids?: string[]) => {
        const inv = await owner.call("POST", "/api/v1/users/invitations", { email, role, workspace_ids });
        expect(inv.status).toBe(201);
        expect(inv.body.url).toMatch(/^\/console\/accept\?token=/);
        const token = new URL(inv.body.url, t.url).searchParams.get("token")!;
        expect((await raw(t.url, "POST", "/api/v1/invitations/inspect", { token })).body).toMatchObject({ email, role });
        const acc = await raw(t.url, "POST", "/api/v1/invitations/accept", { token, password });
        expect(acc.status).toBe(201);
        expect((await raw(t.url, "POST", "/api/v1/invitations/accept", { token, password })).status).toBe(404);
        return browser(t.url, acc.headers.get("set-cookie"), acc.body.csrf_token);
      };
      const viewer = await invite("viewer@example.com", "viewer");
      const dev = await invite("dev@example.com", "developer", [wsA]);
      const billing = await invite("billing@example.com", "billing");

      // Viewer: reads everything, changes nothing, even with a valid CSRF token.
      expect((await viewer.call("GET", "/api/v1/keys")).status).toBe(200);
      const forged = await viewer.call("POST", "/api/v1/keys", { name: "sneaky" });
      expect(forged.status).toBe(403);
      expect(forged.body.error.message).toMatch(/viewer/);
      expect((await viewer.call("PATCH", "/api/v1/organization", { name: "mine" })).status).toBe(403);
      expect((await viewer.call("POST", "/api/v1/users/invitations", { email: "x@example.com", role: "owner" })).status).toBe(403);

      // Developer: keys only in their workspace.
      const inA = await dev.call("POST", "/api/v1/keys", { name: "dev key", workspace_id: wsA, kind: "test" });
      expect(inA.status).toBe(201);
      const outside = await dev.call("POST", "/api/v1/keys", { name: "dev key 2", kind: "test" });
      expect(outside.status).toBe(403);
      const listed = (await dev.call("GET", "/api/v1/keys")).body.data;
      expect(listed.every((k: { workspace_id: string }) => k.workspace_id === wsA)).toBe(true);
      expect((await dev.call("POST", "/api/v1/workspaces", { name: "nope" })).status).toBe(403);

      // Billing: organization limits yes, keys no.
      expect((await billing.call("PATCH", "/api/v1/organization", { spend_limit: { amount_usd: "100", period: "month" } })).status).toBe(200);
      expect((await billing.call("POST", "/api/v1/keys", { name: "b" })).status).toBe(403);

      // Only an owner makes owners; the last owner cannot be removed.
      const users = (await owner.call("GET", "/api/v1/users")).body.data as Array<{ id: string; email: string; role: string }>;
      expect(users.map((u) => u.role).sort()).toEqual(["billing", "developer", "owner", "viewer"]);
      const me = users.find((u) => u.role === "owner")!;
      expect((await owner.call("DELETE", `/api/v1/users/${me.id}`)).status).toBe(409);
      const v = users.find((u) => u.role === "viewer")!;
      expect((await owner.call("PATCH", `/api/v1/users/${v.id}`, { role: "admin" })).body.role).toBe("admin");
      const admin = viewer; // same session: the role is read on every request
      expect((await admin.call("PATCH", `/api/v1/users/${me.id}`, { role: "viewer" })).status).toBe(403);
      expect((await admin.call("POST", "/api/v1/users/invitations", { email: "o2@example.com", role: "owner" })).status).toBe(403);
      const d = users.find((u) => u.role === "developer")!;
      expect((await owner.call("DELETE", `/api/v1/users/${d.id}`)).status).toBe(200);
      expect((await dev.call("GET", "/api/v1/keys")).status).toBe(401);
    });

    it("ends a session left idle too long", async () => {
      const r = await raw(t.url, "POST", "/api/v1/session", { email: "owner@example.com", password });
      const idle = browser(t.url, r.headers.get("set-cookie"), r.body.csrf_token);
      expect((await idle.call("GET", "/api/v1/session")).status).toBe(200);
      const db = t.app.database.db;
      const latest = (await db.selectFrom("user_sessions").select(["id", "created_at"]).orderBy("created_at", "desc").executeTakeFirst())!;
      await db.updateTable("user_sessions").set({ last_seen_at: Date.now() - 13 * 3600_000 }).where("id", "=", latest.id).execute();
      expect((await idle.call("GET", "/api/v1/session")).status).toBe(401);
      expect(await db.selectFrom("user_sessions").select("id").where("id", "=", latest.id).executeTakeFirst()).toBeUndefined();
    });

    it("backs off failed sign-ins from an address that has not signed in to the account before", async () => {
      const attempts = [];
      for (let i = 0; i < 6; i++) attempts.push((await raw(t.url, "POST", "/api/v1/session", { email: "billing@example.com", password: "wrong password" })).status);
      expect(attempts.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(attempts[5]).toBe(429);
      const stillBlocked = await raw(t.url, "POST", "/api/v1/session", { email: "billing@example.com", password });
      expect(stillBlocked.status).toBe(429);
    });

    it("signs in, signs out, and signs out everywhere", async () => {
      const signIn = async () => {
        const r = await raw(t.url, "POST", "/api/v1/session", { email: "owner@example.com", password });
        expect(r.status).toBe(200);
        return browser(t.url, r.headers.get("set-cookie"), r.body.csrf_token);
      };
      const a = await signIn();
      const b2 = await signIn();
      expect(a.csrf).not.toBe(b2.csrf);
      const out = await a.call("DELETE", "/api/v1/session");
      expect(out.status).toBe(200);
      expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0/);
      expect((await a.call("GET", "/api/v1/session")).status).toBe(401);
      expect((await b2.call("GET", "/api/v1/session")).status).toBe(200);
      const all2 = await b2.call("POST", "/api/v1/session/revoke-all");
      expect(all2.body.sessions_ended).toBeGreaterThanOrEqual(2);
      expect((await b2.call("GET", "/api/v1/session")).status).toBe(401);
      expect((await owner.call("GET", "/api/v1/session")).status).toBe(401);
      const audit = (await t.api("GET", "/api/v1/audit?action=session.revoked_all")).body.data;
      expect(audit).toHaveLength(1);
    });
  });
}
