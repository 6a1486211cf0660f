import type { FastifyInstance } from "fastify";
import type { Logger, LogFn } from "pino";

declare module "fastify" {
  interface FastifyRequest {
    /** Who called a management route, once authenticated (for the access log). */
    latchkeyActor?: { type: string; id: string; orgId: string };
  }
}

export interface ManagementObserver {
  logger: Logger;
  level: "trace" | "debug" | "info" | "warn" | "off";
  /** Counts answered requests by method, route pattern and status. */
  count?: (method: string, route: string, status: number) => void;
}

/**
 * One line per management, console and health request, after it is answered: the route pattern
 * (never the raw URL, which may carry a query secret), the status, the time and who called it.
 * Health probes and console assets are counted but not logged: a load balancer asks every few
 * seconds, and a console page load fetches a dozen files.
 */
export function registerAccessLog(app: FastifyInstance, o: ManagementObserver): void {
  const log: LogFn | null = o.level !== "off" && o.logger.isLevelEnabled(o.level) ? o.logger[o.level] : null;
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "(no route)";
    o.count?.(req.method, route, reply.statusCode);
    if (!log || route === "/healthz" || route === "/readyz" || route === "/metrics" || route.startsWith("/console")) return;
    const actor = req.latchkeyActor;
    log.call(o.logger, {
      kind: "api", requestId: req.latchkeyRequestId, method: req.method, route, status: reply.statusCode,
      latencyMs: Math.round(reply.elapsedTime), actorType: actor?.type ?? null, actorId: actor?.id ?? null, orgId: actor?.orgId ?? null, ip: req.clientIp,
    }, "management request");
  });
}
