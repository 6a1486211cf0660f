import { randomBytes } from "node:crypto";
import { AppError } from "../errors/index.js";
import { newId, safeEqual, sha256Hex } from "../lib/index.js";
import type { User, UserSession } from "../store/index.js";
import type { Principal, RouteDef } from "./route.js";
import type { AdminServices } from "./services.js";
import { principalForUser } from "./users-roles.js";

export const SESSION_COOKIE = "latchkey_session";
/** A session ends this long after sign-in whatever happens… */
export const SESSION_TTL_MS = 7 * 24 * 3600_000;
/** …or after this long without a request. */
export const SESSION_IDLE_MS = 12 * 3600_000;
// Writing last_seen_at on every request would turn each read into a write; once a minute is enough for the idle timeout.
const TOUCH_EVERY_MS = 60_000;

type Headers = Record<string, string | string[] | undefined>;
/** The part of a request the session code reads (a Fastify request fits). */
export interface SessionRequest {
  method: string;
  ip: string;
  headers: Headers;
}

function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function readSessionToken(h: Headers): string | null {
  const cookie = header(h, "cookie");
  if (!cookie) return null;
  for (const part of cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return decodeURIComponent(part.slice(eq + 1).trim()) || null;
  }
  return null;
}

/** The CSRF token is derived from the session token: it needs no storage and dies with the session. */
export function csrfTokenFor(sessionToken: string): string {
  return sha256Hex(`latchkey-csrf:${sessionToken}`);
}

function isSecure(s: AdminServices, h: Headers): boolean {
  if (s.config.trustProxy.kind !== "none" && header(h, "x-forwarded-proto")?.split(",")[0]?.trim() === "https") return true;
  return s.config.publicUrl?.startsWith("https:") ?? false;
}

export function sessionCookie(s: AdminServices, h: Headers, token: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${isSecure(s, h) ? "; Secure" : ""}`;
}

export function clearedSessionCookie(s: AdminServices, h: Headers): string {
  return sessionCookie(s, h, "", 0);
}

/** Starts a session for a user; answers the token (for the cookie only) and the row. */
export async function startSession(s: AdminServices, user: User, ip: string, h: Headers): Promise<{ token: string; session: UserSession }> {
  const now = s.clock.now();
  const token = randomBytes(32).toString("base64url");
  const session: UserSession = {
    id: newId("ses", now), tokenHash: sha256Hex(token), userId: user.id, createdAt: now, lastSeenAt: now,
    expiresAt: now + SESSION_TTL_MS, clientIp: ip, userAgent: header(h, "user-agent")?.slice(0, 300) ?? null,
  };
  await s.store.users.deleteExpiredSessions(now);
  await s.store.users.insertSession(session);
  await s.store.users.update(user.id, { lastSignInAt: now, updatedAt: now });
  return { token, session };
}

/** The live session and user behind a request's cookie, or null. */
export async function findSession(s: AdminServices, h: Headers): Promise<{ token: string; session: UserSession; user: User } | null> {
  const token = readSessionToken(h);
  if (!token) return null;
  const session = await s.store.users.getSessionByHash(sha256Hex(token));
  if (!session) return null;
  const now = s.clock.now();
  if (now >= session.expiresAt || now - session.lastSeenAt >= SESSION_IDLE_MS) {
    await s.store.users.deleteSession(session.id);
    return null;
  }
  const user = await s.store.users.getById(session.userId);
  if (!user) return null;
  if (now - session.lastSeenAt >= TOUCH_EVERY_MS) await s.store.users.touchSession(session.id, now);
  return { token, session, user };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A browser request from another site carries an Origin that is not ours. When the deployment's
 * public URL is known it is the only accepted origin; otherwise the origin must name the Host the
 * request was sent to.
 */
export function checkOrigin(s: AdminServices, h: Headers): void {
  const origin = header(h, "origin");
  if (!origin) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new AppError("forbidden", "the request's Origin header is not a URL");
  }
  const allowed = new Set<string>();
  if (s.config.publicUrl) allowed.add(new URL(s.config.publicUrl).host);
  const reqHost = (s.config.trustProxy.kind !== "none" ? header(h, "x-forwarded-host") : undefined) ?? header(h, "host");
  if (reqHost) allowed.add(reqHost);
  if (!allowed.has(host)) throw new AppError("forbidden", `requests from ${origin} are not accepted; use the console on this server`);
}

/** Refuses a state-changing session request without the session's CSRF token or from another origin. */
export function checkCsrf(s: AdminServices, req: SessionRequest, sessionToken: string): void {
  if (SAFE_METHODS.has(req.method.toUpperCase())) return;
  checkOrigin(s, req.headers);
  const sent = header(req.headers, "x-csrf-token");
  if (!sent || !safeEqual(sent, csrfTokenFor(sessionToken))) {
    throw new AppError("forbidden", "this change needs the x-csrf-token header from GET /api/v1/session (CSRF protection)");
  }
}

/**
 * Lets the management API accept a console session as well as an admin key. The role's scopes
 * become the principal's, so the server enforces them; every change needs the CSRF token.
 */
export function sessionAuthenticator(s: AdminServices): (req: SessionRequest, route: RouteDef) => Promise<Principal | null> {
  return async function authenticateSession(req) {
    const found = await findSession(s, req.headers);
    if (!found) return null;
    checkCsrf(s, req, found.token);
    return principalForUser(found.user);
  };
}
