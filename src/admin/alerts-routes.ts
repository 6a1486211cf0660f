import { z } from "zod";
import { NotFoundError, ValidationError } from "../errors/index.js";
import { toIso } from "../lib/index.js";
import { WEBHOOK_EVENT_TYPES, type AlertService, type WebhookDispatcher, type WebhookEndpoint, type WebhookService } from "../alerts/index.js";
import type { AlertRow } from "../store/index.js";
import type { UsageRollupJob } from "../usage/index.js";
import { audited } from "./audit.js";
import { REFUSED_ADDRESS } from "./credentials-routes.js";
import { page } from "./present.js";
import { defineRoute, type RouteDef } from "./route.js";
import { pageQuery } from "./schemas.js";

declare module "./services.js" {
  interface AdminServices {
    alerts: AlertService;
    webhooks: WebhookService;
    webhookDispatcher: WebhookDispatcher;
    usageRollups: UsageRollupJob;
  }
}

function presentAlert(a: AlertRow) {
  return {
    id: a.id, object: "alert", type: a.type, subject_type: a.subject_type, subject_id: a.subject_id, period: a.period_key,
    threshold_percent: a.type === "spend_limit.threshold_crossed" ? a.threshold : null, created_at: toIso(a.at), data: JSON.parse(a.data) as unknown,
  };
}

function presentEndpoint(e: WebhookEndpoint) {
  return { id: e.id, object: "webhook_endpoint", url: e.url, events: e.events, secret_hint: e.secretHint, created_at: toIso(e.createdAt), created_by: e.createdBy };
}

const webhookUrl = z.url({ protocol: /^https?$/ }).max(2000);

export const alertRoutes: RouteDef[] = [
  defineRoute({
    method: "GET", path: "/api/v1/alerts", tag: "alerts", summary: "Fired alerts, newest first",
    query: z.strictObject({
      ...pageQuery,
      type: z.enum(["spend_limit.threshold_crossed", "credits.low_balance", "credits.auto_top_up_requested", "key.leaked", "credential.leaked"]).optional(),
      subject_type: z.enum(["api_key", "workspace", "organization", "provider_credential"]).optional(),
      subject_id: z.string().max(200).optional(),
    }),
    handler: async ({ query, principal, services: s }) => {
      const rows = await s.store.alerts.list({ orgId: principal.orgId, type: query.type, subjectType: query.subject_type, subjectId: query.subject_id, after: query.after, limit: query.limit + 1 });
      const data = rows.slice(0, query.limit).map(presentAlert);
      return { body: page(data, rows.length > query.limit, data.length ? data[data.length - 1]!.id : null) };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/webhooks", tag: "webhooks",
    summary: "Add a webhook endpoint; the answer alone shows its signing secret",
    body: z.strictObject({ url: webhookUrl, events: z.array(z.enum([...WEBHOOK_EVENT_TYPES, "*"])).min(1).max(20) }),
    handler: async ({ body, principal, actor, services: s }) => {
      if (await s.outbound.policy.refusesUrl(body.url)) throw new ValidationError([{ field: "url", message: REFUSED_ADDRESS }]);
      const { endpoint, secret } = await audited(s, actor, "webhook.created", (r) => r.endpoint.id, { url: body.url, events: body.events }, () =>
        s.webhooks.createEndpoint(principal.orgId, body.url, [...new Set(body.events)], actor.id));
      return { status: 201, body: { ...presentEndpoint(endpoint), secret } };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/webhooks", tag: "webhooks", summary: "List webhook endpoints",
    handler: async ({ principal, services: s }) => ({ body: page((await s.webhooks.listEndpoints(principal.orgId)).map(presentEndpoint), false, null) }),
  }),
  defineRoute({
    method: "DELETE", path: "/api/v1/webhooks/:id", tag: "webhooks", summary: "Remove a webhook endpoint (pending deliveries are dropped)",
    handler: async ({ params, principal, actor, services: s }) => {
      const e = await s.webhooks.getEndpoint(principal.orgId, params.id!);
      if (!e) throw new NotFoundError("webhook endpoint");
      await audited(s, actor, "webhook.deleted", e.id, {}, () => s.webhooks.deleteEndpoint(e.id));
      return { body: { id: e.id, object: "webhook_endpoint", deleted: true } };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/webhooks/:id/deliveries", tag: "webhooks", summary: "Delivery log of an endpoint: each attempt, status, response code, time",
    query: z.strictObject({ ...pageQuery, after: z.string().max(100).optional() }),
    handler: async ({ params, query, principal, services: s }) => {
      const e = await s.webhooks.getEndpoint(principal.orgId, params.id!);
      if (!e) throw new NotFoundError("webhook endpoint");
      const rows = await s.store.webhooks.listDeliveries(e.id, query.limit + 1, query.after);
      const data = rows.slice(0, query.limit).map((d) => ({
        id: d.id, object: "webhook_delivery", event_id: d.event_id, event_type: d.type, status: d.status, attempts: d.attempts,
        next_attempt_at: d.status === "pending" ? toIso(d.next_attempt_at) : null, last_status_code: d.last_status_code, last_error: d.last_error,
        created_at: toIso(d.created_at), updated_at: toIso(d.updated_at),
        attempt_log: d.attemptLog.map((a) => ({ attempt: a.attempt, at: toIso(a.at), status_code: a.status_code, error: a.error, duration_ms: a.duration_ms })),
      }));
      return { body: page(data, rows.length > query.limit, data.length ? data[data.length - 1]!.id : null) };
    },
  }),
];
