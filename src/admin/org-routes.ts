import { z } from "zod";
import { AppError, NotFoundError } from "../errors/index.js";
import { microToUsdPerMTok, newId } from "../lib/index.js";
import type { Workspace } from "../store/index.js";
import { audited } from "./audit.js";
import { inWorkspace } from "./authorize.js";
import { page, presentOrganization, presentWorkspace } from "./present.js";
import { defineRoute, type RouteDef } from "./route.js";
import { modelList, pageQuery, usdAmount, rateLimitsSchema, spendLimitSchema, toRateLimits, toSpendLimit } from "./schemas.js";
import type { AdminServices } from "./services.js";

const usdString = usdAmount.transform((nano) => microToUsdPerMTok(Math.round(nano / 1000)));

/** Refuse (the default), or charge a stated price per million tokens; kept as given, in USD strings. */
const unpricedRule = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal("refuse") }),
  z.strictObject({ action: z.literal("charge"), input_usd_per_mtok: usdString, output_usd_per_mtok: usdString }),
]);

const workspaceFields = {
  name: z.string().trim().min(1).max(200),
  allowed_models: modelList.optional(),
  rate_limits: rateLimitsSchema.optional(),
  spend_limit: spendLimitSchema.optional(),
};

async function ownWorkspace(s: AdminServices, orgId: string, id: string): Promise<Workspace> {
  const ws = await s.store.orgs.getWorkspace(id);
  if (!ws || ws.orgId !== orgId) throw new NotFoundError("workspace");
  return ws;
}

export const orgRoutes: RouteDef[] = [
  defineRoute({
    method: "GET", path: "/api/v1/organization", tag: "organization", summary: "The organization, its limits and settings",
    handler: async ({ principal, services: s }) => {
      const org = await s.store.orgs.getOrganizationById(principal.orgId);
      if (!org) throw new NotFoundError("organization");
      return { body: presentOrganization(org) };
    },
  }),
  defineRoute({
    method: "PATCH", path: "/api/v1/organization", tag: "organization", summary: "Rename the organization or change its limits",
    body: z.strictObject({
      name: workspaceFields.name.optional(), rate_limits: workspaceFields.rate_limits, spend_limit: workspaceFields.spend_limit,
      /** Percentages of each spend limit at which an alert fires (default 50, 80, 100); null restores the default. */
      alert_thresholds: z.array(z.number().int().min(1).max(1000)).min(1).max(10).nullable().optional(),
      /** What the gateway does with a model that matches a provider pattern but has no price; null restores the default (refuse). */
      unpriced_models: unpricedRule.nullable().optional(),
    }),
    handler: async ({ body, principal, actor, services: s }) => {
      await audited(s, actor, "organization.updated", principal.orgId, body as Record<string, unknown>, async (trx) => {
        let settings: Record<string, unknown> | undefined;
        if (body.alert_thresholds !== undefined || body.unpriced_models !== undefined) {
          settings = { ...(await s.store.orgs.getOrganizationById(principal.orgId, trx))?.settings };
          if (body.alert_thresholds === null) delete settings.alert_thresholds;
          else if (body.alert_thresholds) settings.alert_thresholds = [...new Set(body.alert_thresholds)].sort((a, b) => a - b);
          if (body.unpriced_models === null) delete settings.unpriced_models;
          else if (body.unpriced_models) settings.unpriced_models = body.unpriced_models;
        }
        await s.store.orgs.updateOrganization(principal.orgId, { name: body.name, rateLimits: toRateLimits(body.rate_limits), spendLimit: toSpendLimit(body.spend_limit), settings }, trx);
      });
      s.verifier.invalidateAll();
      await s.settingsChanges?.orgChanged(principal.orgId);
      return { body: presentOrganization((await s.store.orgs.getOrganizationById(principal.orgId))!) };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/workspaces", tag: "workspaces", summary: "List workspaces",
    query: z.strictObject({ ...pageQuery, include_archived: z.enum(["true", "false"]).optional() }),
    handler: async ({ query, principal, services: s }) => {
      const r = await s.store.orgs.listWorkspaces(principal.orgId, { limit: query.limit, after: query.after }, { includeArchived: query.include_archived === "true" });
      const visible = principal.workspaceIds ? r.data.filter((w) => principal.workspaceIds!.includes(w.id)) : r.data;
      return { body: page(visible.map(presentWorkspace), r.hasMore, r.lastId) };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/workspaces", tag: "workspaces", summary: "Create a workspace",
    body: z.strictObject(workspaceFields),
    handler: async ({ body, principal, actor, services: s }) => {
      const now = s.clock.now();
      const ws: Workspace = {
        id: newId("wrk", now), orgId: principal.orgId, name: body.name, isDefault: false, allowedModels: body.allowed_models ?? null,
        rateLimits: toRateLimits(body.rate_limits) ?? null, spendLimit: toSpendLimit(body.spend_limit) ?? null, archivedAt: null, createdAt: now,
      };
      await audited(s, actor, "workspace.created", ws.id, body as Record<string, unknown>, (trx) => s.store.orgs.insertWorkspace(ws, trx));
      return { status: 201, body: presentWorkspace(ws) };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/workspaces/:id", tag: "workspaces", summary: "Get a workspace",
    handler: async ({ params, principal, services: s }) => {
      const ws = await ownWorkspace(s, principal.orgId, params.id!);
      inWorkspace(principal, ws.id, "workspace");
      return { body: presentWorkspace(ws) };
    },
  }),
  defineRoute({
    method: "PATCH", path: "/api/v1/workspaces/:id", tag: "workspaces", summary: "Rename a workspace or change its limits and models",
    body: z.strictObject({ ...workspaceFields, name: workspaceFields.name.optional() }),
    handler: async ({ params, body, principal, actor, services: s }) => {
      const ws = await ownWorkspace(s, principal.orgId, params.id!);
      if (ws.archivedAt !== null) throw new AppError("conflict", "the workspace is archived");
      await audited(s, actor, "workspace.updated", ws.id, body as Record<string, unknown>, (trx) => s.store.orgs.updateWorkspace(ws.id, {
        name: body.name, allowedModels: body.allowed_models, rateLimits: toRateLimits(body.rate_limits), spendLimit: toSpendLimit(body.spend_limit),
      }, trx));
      s.verifier.invalidateAll();
      return { body: presentWorkspace((await s.store.orgs.getWorkspace(ws.id))!) };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/workspaces/:id/archive", tag: "workspaces",
    summary: "Archive a workspace: its keys stop working; it stays listed with include_archived",
    handler: async ({ params, principal, actor, services: s }) => {
      const ws = await ownWorkspace(s, principal.orgId, params.id!);
      if (ws.isDefault) throw new AppError("conflict", "the default workspace cannot be archived");
      const now = s.clock.now();
      if (ws.archivedAt === null) {
        await audited(s, actor, "workspace.archived", ws.id, {}, (trx) => s.store.orgs.updateWorkspace(ws.id, { archivedAt: now }, trx));
        s.verifier.invalidateAll();
      }
      return { body: presentWorkspace((await s.store.orgs.getWorkspace(ws.id))!) };
    },
  }),
];
