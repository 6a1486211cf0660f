import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError, renderError, type Dialect } from "../errors/index.js";
import { hasScope, type AuthFailureLimiter } from "../keys/index.js";
import { clientAddress, newId, type TrustFn } from "../lib/index.js";
import { authorize, ruleFor, type AdminServices, type Principal, type Rule, type RouteDef } from "../admin/index.js";
import { parseInput } from "./validation.js";

declare module "fastify" {
  interface FastifyRequest {
    rawBody?: Buffer;
    latchkeyRequestId: string;
    /** The client's address by the proxy-trust setting (lib/client-address.ts), as the gateway sees it. */
    clientIp: string;
  }
}

/** Optional extra ways to authenticate (console sessions); tried when there is no bearer key. */
export type Authenticator = (req: FastifyRequest, route: RouteDef) => Promise<Principal | null>;

export interface ManagementOptions {
  services: AdminServices;
  routes: RouteDef[];
  failures: AuthFailureLimiter;
  authenticators?: Authenticator[];
}

const ANONYMOUS: Principal = { type: "key", id: "anonymous", orgId: "", scopes: [] };

export function sendError(reply: FastifyReply, err: AppError, requestId: string, dialect: Dialect = "management"): FastifyReply {
  const { status, body } = renderError(dialect, { code: err.code, message: err.message, requestId, fields: err.extra.fields });
  if (err.extra.retryAfterSeconds) reply.header("retry-after", String(err.extra.retryAfterSeconds));
  return reply.code(status).header("x-request-id", requestId).send(body);
}

/** Registers every management route: authentication, scope check, validation, audit actor. */
export function registerManagementRoutes(app: FastifyInstance, o: ManagementOptions): void {
  const s = o.services;
  for (const route of o.routes) {
    const rule = ruleFor(route.method, route.path);
    app.route({
      method: route.method,
      url: route.path,
      handler: async (req, reply) => {
        const requestId = req.latchkeyRequestId;
        const principal = await principalFor(req, route, rule, o);
        checkParams(req.params as Record<string, string>);
        const body = route.body ? parseInput(route.body, req.body, "body") : undefined;
        const query = route.query ? parseInput(route.query, req.query ?? {}, "query") : undefined;
        const result = await route.handler({
          principal, body, query, params: req.params as Record<string, string>, services: s, requestId, ip: req.clientIp,
          actor: { id: principal.id, orgId: principal.orgId, requestId, clientIp: req.clientIp },
          rawBody: req.rawBody, headers: req.headers,
        });
        reply.code(result.status ?? 200).header("x-request-id", requestId);
        for (const [k, v] of Object.entries(result.headers ?? {})) reply.header(k, v);
        if (result.authFailed && principal === ANONYMOUS) o.failures.recordFailure(req.clientIp, s.clock.now());
        if (result.contentType) return reply.type(result.contentType).send(result.body);
        return reply.send(result.body ?? {});
      },
    });
  }
}

/**
 * Who calls, and whether the policy lets them. A public operation with a scope (key verification)
 * takes an optional key with that scope; without one, its failures count against the address.
 */
async function principalFor(req: FastifyRequest, route: RouteDef, rule: Rule, o: ManagementOptions): Promise<Principal> {
  if (rule.resource !== "public") {
    const p = noteActor(req, await authenticate(req, route, o));
    authorize(p, rule);
    return p;
  }
  if (rule.scope === "public") return ANONYMOUS;
  if (req.headers.authorization) {
    const p = noteActor(req, await authenticate(req, route, o));
    if (!hasScope(p.scopes, rule.scope)) throw new AppError("forbidden", `this key lacks the '${rule.scope}' scope`);
    return p;
  }
  const wait = o.failures.blockedFor(req.clientIp, o.services.clock.now());
  if (wait > 0) throw new AppError("rate_limited", "too many failed attempts from this address; try again later", { retryAfterSeconds: wait });
  return ANONYMOUS;
}

/** Remembers who called, for the access log (a refused request's line names its caller too). */
function noteActor(req: FastifyRequest, p: Principal): Principal {
  req.latchkeyActor = { type: p.type, id: p.id, orgId: p.orgId };
  return p;
}

async function authenticate(req: FastifyRequest, route: RouteDef, o: ManagementOptions): Promise<Principal> {
  const now = o.services.clock.now();
  const wait = o.failures.blockedFor(req.clientIp, now);
  if (wait > 0) throw new AppError("rate_limited", "too many failed authentication attempts from this address; try again later", { retryAfterSeconds: wait });
  const header = req.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const result = m ? await o.services.verifier.verify(m[1]!, { surface: "management", ip: req.clientIp }) : null;
    if (!result || !result.valid) {
      o.failures.recordFailure(req.clientIp, now);
      throw new AppError(result?.code === "FORBIDDEN_SCOPE" ? "forbidden" : "unauthenticated", result?.message ?? "the Authorization header must be 'Bearer <admin key>'");
    }
    const k = result.entry.key;
    return { type: "key", id: k.id, orgId: k.orgId, scopes: k.scopes, workspaceIds: null };
  }
  for (const auth of o.authenticators ?? []) {
    const p = await auth(req, route);
    if (p) return p;
  }
  throw new AppError("unauthenticated", "send an admin key as 'Authorization: Bearer lk_admin_…', or sign in to the console");
}

/** Names the request and reads its client address once, by the same rule as the gateway. */
export function requestHook(trust: TrustFn | null): (req: FastifyRequest) => void {
  return function identifyRequest(req) {
    req.latchkeyRequestId = newId("req");
    req.clientIp = clientAddress(req.raw, trust);
  };
}

/** Ids in paths are ours: short and plain. A 5,000-character or undecodable one is refused, not looked up. */
function checkParams(params: Record<string, string>): void {
  for (const [name, value] of Object.entries(params)) {
    if (value.length > 100) throw new AppError("invalid_request", `the ${name} in the path is longer than 100 characters`);
  }
}
