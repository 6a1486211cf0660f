/**
 * The authorization matrix, generated: every management route × every console role and a spread of
 * admin-key scopes, called on a real server and compared with the policy table. A principal the
 * table allows never gets 403; one it refuses always does (before validation, so a junk body is
 * enough). Ids point nowhere, so an allowed destructive call changes nothing (404).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLICY, policyKey, ROUTES, type Rule } from "../src/admin/index.js";
import { hasScope } from "../src/keys/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";
import { invite, keyCaller, signIn, signUpOwner, type Caller } from "./support/people.js";

const KEY_SCOPES: string[][] = [
  ["*"], ["keys:read"], ["keys:write"], ["users:write"], ["billing:write", "org:write"], ["credentials:read"],
  ["audit:read", "usage:read"], ["workspaces:write"], ["webhooks:read"], ["models:write"], ["keys:verify"], ["metrics:read"], [],
];
const ROLES = ["owner", "admin", "developer", "billing", "viewer"] as const;

interface Who { label: string; call: Caller; role?: string; email?: string; scopes?: string[] }

function expected(w: Who, r: Rule): boolean {
  if (r.scope === "authenticated") return true;
  return w.role ? r.roles.includes(w.role as never) : hasScope(w.scopes!, r.scope);
}

/** A path with its ids filled by ones that exist nowhere. */
function concrete(path: string): string {
  return path.replace(/:id\b/g, "xyz_0000000000000000000000000");
}

// Signing out ends the session the rest of the walk uses: those go last, each with fresh sessions.
const LAST = new Set(["DELETE /api/v1/session", "POST /api/v1/session/revoke-all"]);
const walked = ROUTES.filter((r) => POLICY[policyKey(r.method, r.path)]!.resource !== "public")
  .sort((a, b) => Number(LAST.has(policyKey(a.method, a.path))) - Number(LAST.has(policyKey(b.method, b.path))));

describe("authorization matrix", () => {
  let t: TestApp;
  const principals: Who[] = [];

  beforeAll(async () => {
    t = await startSqliteApp({ logLevel: "fatal" });
    const owner = await signUpOwner(t);
    const ws = await t.api("POST", "/api/v1/workspaces", { name: "Team A" });
    principals.push({ label: "role owner", role: "owner", email: "owner@example.com", call: owner });
    for (const role of ROLES.slice(1)) {
      const who = await invite(t, owner, `${role}@example.com`, role, role === "developer" ? [ws.body.id] : undefined);
      principals.push({ label: `role ${role}`, role, email: `${role}@example.com`, call: who.call });
    }
    for (const scopes of KEY_SCOPES) {
      const k = await t.api("POST", "/api/v1/keys", { name: `scopes ${scopes.join(" ")}`, kind: "admin", scopes });
      expect(k.status).toBe(201);
      principals.push({ label: `key [${scopes.join(" ")}]`, scopes, call: keyCaller(t, k.body.key) });
    }
  });
  afterAll(async () => t?.close());

  it("has exactly one rule per route, and no rule without a route", () => {
    const routeKeys = ROUTES.map((r) => policyKey(r.method, r.path));
    expect(new Set(routeKeys).size).toBe(routeKeys.length);
    expect(routeKeys.filter((k) => !POLICY[k])).toEqual([]);
    expect(Object.keys(POLICY).filter((k) => !routeKeys.includes(k))).toEqual([]);
  });

  it("answers every route for every principal as the policy says", async () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const route of walked) {
      const rule = POLICY[policyKey(route.method, route.path)]!;
      if (LAST.has(policyKey(route.method, route.path))) {
        for (const w of principals) if (w.email) w.call = await signIn(t, w.email);
      }
      for (const w of principals) {
        const body = route.method === "GET" || route.method === "DELETE" ? undefined : { __junk: true };
        const r = await w.call(route.method, concrete(route.path), body);
        const allowed = expected(w, rule);
        checked++;
        if (r.status === 401 || r.status >= 500 || (r.status === 403) === allowed) {
          mismatches.push(`${w.label} ${route.method} ${route.path}: ${r.status} (policy ${allowed ? "allows" : "refuses"}) ${JSON.stringify(r.body?.error?.message ?? "")}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBe(walked.length * principals.length);
  }, 180_000);

  it("never lets a role reach an operation beyond the scopes it holds", async () => {
    const { ROLE_SCOPES } = await import("../src/admin/index.js");
    for (const [key, rule] of Object.entries(POLICY)) {
      if (rule.scope === "public" || rule.scope === "authenticated") continue;
      for (const role of rule.roles) expect(hasScope(ROLE_SCOPES[role], rule.scope), `${role} on ${key}`).toBe(true);
    }
  });
});
