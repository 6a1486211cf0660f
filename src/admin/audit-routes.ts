import { z } from "zod";
import { defineRoute, type RouteDef } from "./route.js";
import { presentAudit } from "./present.js";

export const auditRoutes: RouteDef[] = [
  defineRoute({
    method: "GET", path: "/api/v1/audit", tag: "audit", summary: "Audit events, newest first; filter by time, actor, target, action",
    query: z.strictObject({
      since: z.iso.datetime({ offset: true }).optional(), until: z.iso.datetime({ offset: true }).optional(),
      actor: z.string().max(100).optional(), target: z.string().max(100).optional(), action: z.string().max(100).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(50), before: z.coerce.number().int().positive().optional(),
    }),
    handler: async ({ query, services: s }) => {
      const events = await s.store.audit.list({
        since: query.since ? Date.parse(query.since) : undefined, until: query.until ? Date.parse(query.until) : undefined,
        actor: query.actor, target: query.target, action: query.action, beforeSeq: query.before, limit: query.limit + 1,
      });
      const data = events.slice(0, query.limit).map(presentAudit);
      return { body: { data, has_more: events.length > query.limit, next_before: data.length ? data[data.length - 1]!.seq : null } };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/audit/verify", tag: "audit", summary: "Check the audit chain; reports the first broken link",
    handler: async ({ services: s }) => {
      const r = await s.store.audit.verify();
      return { body: { ok: r.ok, count: r.count, broken_at: r.brokenAt ?? null } };
    },
  }),
];
