import { z } from "zod";
import { AppError } from "../errors/index.js";
import { toIso } from "../lib/index.js";
import type { User } from "../store/index.js";
import { audited } from "./audit.js";
import { defineRoute, type RouteDef } from "./route.js";
import type { AdminServices } from "./services.js";
import {
  checkOrigin, clearedSessionCookie, csrfTokenFor, findSession, SESSION_TTL_MS, sessionCookie, startSession,
} from "./sessions.js";
import { signInBackoff } from "./sign-in-backoff.js";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "./users-passwords.js";
import { ROLE_SCOPES } from "./users-roles.js";

export function presentUser(u: User) {
  return {
    id: u.id, object: "user", email: u.email, name: u.name, role: u.role, workspace_ids: u.workspaceIds,
    created_at: toIso(u.createdAt), last_sign_in_at: toIso(u.lastSignInAt),
  };
}

type Headers = Record<string, string | string[] | undefined>;

/** Signs a user in: the answer sets the session cookie and carries the CSRF token for later changes. */
export async function signedIn(s: AdminServices, user: User, ip: string, headers: Headers, status = 200) {
  const { token, session } = await startSession(s, user, ip, headers);
  return {
    status,
    headers: { "set-cookie": sessionCookie(s, headers, token, Math.floor(SESSION_TTL_MS / 1000)), "cache-control": "no-store" },
    body: { user: presentUser(user), role: user.role, scopes: ROLE_SCOPES[user.role], csrf_token: csrfTokenFor(token), expires_at: toIso(session.expiresAt) },
  };
}

export const sessionRoutes: RouteDef[] = [
  defineRoute({
    method: "POST", path: "/api/v1/session", tag: "session", summary: "Sign in to the console with email and password; sets the session cookie",
    body: z.strictObject({ email: z.string().trim().max(320), password: z.string().max(1000) }),
    handler: async ({ body, ip, headers, actor, services: s }) => {
      checkOrigin(s, headers);
      const email = body.email.toLowerCase();
      const backoff = signInBackoff(s);
      const waitMs = await backoff.waitMs(email, ip, s.clock.now());
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw new AppError("rate_limited", `too many failed sign-in attempts; try again in ${seconds} s`, { retryAfterSeconds: seconds });
      }
      const user = await s.store.users.getByEmail(email);
      const ok = await verifyPassword(body.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!user || !ok) {
        await backoff.failed(email, ip, s.clock.now());
        throw new AppError("unauthenticated", "the email or password is not right");
      }
      await backoff.succeeded(email, ip, s.clock.now());
      // The session and its audit record commit together.
      return audited(s, { ...actor, id: user.id, orgId: user.orgId }, "session.signed_in", user.id, {}, () => signedIn(s, user, ip, headers));
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/session", tag: "session", summary: "Who is signed in: user, role, scopes and the CSRF token for changes",
    handler: async ({ principal, headers, services: s }) => {
      const found = principal.type === "user" ? await findSession(s, headers) : null;
      const org = await s.store.orgs.getOrganizationById(principal.orgId);
      const organization = org ? { id: org.id, name: org.name } : null;
      if (!found) return { body: { type: principal.type, id: principal.id, role: null, scopes: principal.scopes, workspace_ids: null, csrf_token: null, organization } };
      return {
        headers: { "cache-control": "no-store" },
        body: {
          type: "user", id: found.user.id, user: presentUser(found.user), role: found.user.role, scopes: principal.scopes,
          workspace_ids: principal.workspaceIds ?? null, csrf_token: csrfTokenFor(found.token), expires_at: toIso(found.session.expiresAt), organization,
        },
      };
    },
  }),
  defineRoute({
    method: "DELETE", path: "/api/v1/session", tag: "session", summary: "Sign out of this browser",
    handler: async ({ headers, services: s }) => {
      const found = await findSession(s, headers);
      if (found) await s.store.users.deleteSession(found.session.id);
      return { headers: { "set-cookie": clearedSessionCookie(s, headers) }, body: { signed_out: true } };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/session/revoke-all", tag: "session", summary: "Sign out everywhere: end every session of the signed-in user",
    handler: async ({ principal, actor, headers, services: s }) => {
      if (principal.type !== "user") throw new AppError("invalid_request", "only a console user has sessions; sign in to the console");
      const ended = await audited(s, actor, "session.revoked_all", principal.id, {}, (trx) => s.store.users.deleteSessionsOf(principal.id, trx));
      return { headers: { "set-cookie": clearedSessionCookie(s, headers) }, body: { sessions_ended: ended } };
    },
  }),
];
