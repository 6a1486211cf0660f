import { z } from "zod";
import { AppError } from "../errors/index.js";
import type { ChainCheck } from "../store/index.js";
import { defineRoute, type RouteDef } from "./route.js";
import { presentAudit } from "./present.js";

const checkpointSchema = z.strictObject({
  count: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/), at: z.iso.datetime({ offset: true }), seal: z.string().regex(/^[0-9a-f]{64}$/),
});

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
    method: "GET", path: "/api/v1/audit/verify", tag: "audit", summary: "Check the audit chain and its seals; reports the first broken link",
    handler: async ({ services: s }) => ({ body: presentCheck(await s.store.audit.verify()) }),
  }),
  defineRoute({
    method: "POST", path: "/api/v1/audit/verify", tag: "audit",
    summary: "Check the audit chain against a checkpoint kept elsewhere: also catches records cut from the end and history rewritten before it",
    body: z.strictObject({ checkpoint: checkpointSchema }),
    handler: async ({ body, services: s }) => ({ body: presentCheck(await s.store.audit.verify(body.checkpoint)) }),
  }),
  defineRoute({
    method: "GET", path: "/api/v1/audit/checkpoint", tag: "audit",
    summary: "A sealed checkpoint of the audit log's head, to keep outside the database; refused while the log does not verify",
    handler: async ({ services: s }) => {
      const { check, checkpoint } = await s.store.audit.checkpoint(s.clock.now());
      if (!checkpoint) {
        const b = check.brokenAt!;
        throw new AppError("conflict", `the audit log does not verify (record ${b.seq}, ${b.id}: ${b.reason}); no checkpoint is sealed over it`);
      }
      return { body: { object: "audit_checkpoint", ...checkpoint } };
    },
  }),
];

function presentCheck(r: ChainCheck) {
  return { ok: r.ok, count: r.count, unsealed: r.unsealed, broken_at: r.brokenAt ?? null };
}
