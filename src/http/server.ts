import type { IncomingMessage, Server, ServerResponse } from "node:http";
import Fastify, { type FastifyInstance } from "fastify";
import { AppError, diskFullCode, isDependencyFailure } from "../errors/index.js";
import { AuthFailureLimiter } from "../keys/index.js";
import type { AdminServices, RouteDef } from "../admin/index.js";
import { compileTrust, MAX_JSON_DEPTH, nestsDeeperThan, newId } from "../lib/index.js";
import { registerManagementRoutes, requestHook, sendError, type Authenticator } from "./management.js";
import { buildOpenApi } from "./openapi.js";
import { registerConsole } from "./console.js";
import { registerHealth, type HealthProbes } from "./health.js";
import { registerAccessLog, type ManagementObserver } from "./access-log.js";

/** The gateway's request handler; it answers every path under /v1/ and /v1beta/. */
export interface GatewayHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export interface HttpOptions {
  services: AdminServices;
  routes: RouteDef[];
  gateway?: GatewayHandler;
  authenticators?: Authenticator[];
  /** The listening server (HTTP or HTTPS), bound before anything else starts; its request handler is set here. */
  server: Server;
  /** What /healthz and /readyz probe. */
  health: HealthProbes;
  /** Told of each management, console and health request once answered (access log, metrics). */
  observer?: ManagementObserver;
  consoleDir?: string;
  version: string;
  /** Extra Fastify setup (areas that register their own plugins or routes). */
  extend?: (app: FastifyInstance) => void | Promise<void>;
}

const MANAGEMENT_BODY_LIMIT = 1024 * 1024;

function isGatewayPath(url: string | undefined): boolean {
  return url !== undefined && (url.startsWith("/v1/") || url.startsWith("/v1beta/") || url === "/v1" || url === "/v1beta");
}

/**
 * One port: the gateway's plain node:http handler answers the provider paths (its hot path
 * never touches Fastify); Fastify answers the management API, the console and health.
 */
export async function buildHttpServer(o: HttpOptions): Promise<{ server: Server; app: FastifyInstance }> {
  const server = o.server;
  const app = Fastify({
    logger: false,
    bodyLimit: MANAGEMENT_BODY_LIMIT,
    // Client addresses come from lib/client-address.ts (requestHook), the gateway's own rule.
    trustProxy: false,
    // A malformed %-escape in the path is refused in our error shape, not Fastify's own body.
    frameworkErrors: (err, req, reply) => {
      const requestId = req.latchkeyRequestId ?? newId("req");
      return sendError(reply, new AppError("invalid_request", err.code === "FST_ERR_BAD_URL" ? "the path has a malformed percent-escape" : err.message), requestId);
    },
    serverFactory: (fastifyHandler) => {
      // Replaces the answer the server gave while the rest of the process was starting.
      server.removeAllListeners("request");
      server.on("request", (req: IncomingMessage, res: ServerResponse) => {
        if (o.gateway && isGatewayPath(req.url)) o.gateway.handle(req, res);
        else fastifyHandler(req, res);
      });
      return server;
    },
  });

  const identify = requestHook(compileTrust(o.services.config.trustProxy));
  app.addHook("onRequest", async (req) => identify(req));
  if (o.observer) registerAccessLog(app, o.observer);
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    const raw = body as Buffer;
    req.rawBody = raw;
    if (raw.length === 0) return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch (err) {
      return done(new AppError("invalid_request", `the body is not valid JSON: ${(err as Error).message}`), undefined);
    }
    if (nestsDeeperThan(parsed)) return done(new AppError("invalid_request", `the body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    done(null, parsed);
  });

  app.setErrorHandler((err, req, reply) => {
    const requestId = req.latchkeyRequestId ?? "req_unknown";
    if (err instanceof AppError) {
      if (err.code === "internal" || err.code === "store_unavailable") o.services.logger.error({ err: err.message, requestId }, "management request failed");
      return sendError(reply, err, requestId);
    }
    const fe = err as { code?: string; statusCode?: number; message: string };
    if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE") return sendError(reply, new AppError("payload_too_large", `the body is larger than ${MANAGEMENT_BODY_LIMIT} bytes`), requestId);
    if (fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") return sendError(reply, new AppError("invalid_request", "send the body as application/json"), requestId);
    if (fe.code === "FST_ERR_CTP_EMPTY_JSON_BODY") return sendError(reply, new AppError("invalid_request", "the body is empty; send a JSON object"), requestId);
    if (fe.statusCode && fe.statusCode < 500) return sendError(reply, new AppError("invalid_request", fe.message), requestId);
    const full = diskFullCode(err);
    if (full) {
      o.services.logger.error({ err: fe.message, code: full, requestId }, "management request failed: the database's disk is full");
      return sendError(reply, new AppError("store_unavailable", `the database's disk is full (${full}); nothing was changed. Free space on it, then retry`), requestId);
    }
    o.services.logger.error({ err: fe.message, code: fe.code, requestId }, "management request failed");
    if (isDependencyFailure(err)) return sendError(reply, new AppError("store_unavailable", "a service Latchkey depends on is unavailable; try again shortly"), requestId);
    return sendError(reply, new AppError("internal", "internal error; the request id identifies it in the server's log"), requestId);
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, new AppError("not_found", `no route for ${req.method} ${req.url.split("?")[0]}`), req.latchkeyRequestId));

  registerHealth(app, o.health);
  const openapi = buildOpenApi(o.routes, o.version);
  app.get("/api/v1/openapi.json", async () => openapi);

  registerManagementRoutes(app, { services: o.services, routes: o.routes, failures: new AuthFailureLimiter(30, 100_000, o.services.failureCounts), authenticators: o.authenticators });
  await registerConsole(app, o.consoleDir);
  if (o.extend) await o.extend(app);
  await app.ready();
  return { server, app };
}
