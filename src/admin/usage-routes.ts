import { z } from "zod";
import { AppError } from "../errors/index.js";
import { buildUsageReport, presentCostReport, presentUsageReport, type GroupField, type UsageReportRequest } from "../usage/index.js";
import type { Principal } from "./route.js";
import { defineRoute, type RouteDef } from "./route.js";

const ARRAY_FIELDS = ["group_by", "api_key_ids", "workspace_ids", "models", "providers"] as const;

/** Accepts `group_by[]=a&group_by[]=b`, `group_by=a&group_by=b` and `group_by=a,b` alike. */
function normalizeArrays(input: unknown): unknown {
  if (typeof input !== "object" || input === null) return input;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    const name = k.endsWith("[]") ? k.slice(0, -2) : k;
    if ((ARRAY_FIELDS as readonly string[]).includes(name)) {
      const list = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(",")).map((x) => x.trim()).filter(Boolean);
      out[name] = [...((out[name] as string[] | undefined) ?? []), ...list];
    } else out[name] = v;
  }
  return out;
}

const ids = z.array(z.string().min(1).max(200)).max(100).optional();

export const usageQuery = z.preprocess(normalizeArrays, z.strictObject({
  starting_at: z.iso.datetime({ offset: true }),
  ending_at: z.iso.datetime({ offset: true }).optional(),
  bucket_width: z.enum(["1m", "1h", "1d"]).default("1d"),
  group_by: z.array(z.enum(["api_key_id", "workspace_id", "model", "provider", "deployment_id"])).max(5).optional(),
  api_key_ids: ids, workspace_ids: ids, models: ids, providers: ids, deployment_ids: ids,
  limit: z.coerce.number().int().min(1).max(1440).optional(),
  page: z.string().max(200).optional(),
  /** `only`: test keys' simulated usage alone, which every report otherwise leaves out. */
  test_usage: z.enum(["exclude", "only"]).default("exclude"),
}));

type UsageQueryInput = z.infer<typeof usageQuery>;

function toRequest(q: UsageQueryInput, principal: Principal): UsageReportRequest {
  const start = Date.parse(q.starting_at);
  const end = q.ending_at ? Date.parse(q.ending_at) : undefined;
  if (end !== undefined && end <= start) throw new AppError("invalid_request", "ending_at must be after starting_at");
  return {
    orgId: principal.orgId, start, end, width: q.bucket_width, groupBy: [...new Set(q.group_by ?? [])] as GroupField[],
    filters: { api_key_id: q.api_key_ids, workspace_id: q.workspace_ids, model: q.models, provider: q.providers, deployment_id: q.deployment_ids },
    allowedWorkspaces: principal.workspaceIds ?? null, limit: q.limit, page: q.page, test: q.test_usage === "only",
  };
}

export const usageRoutes: RouteDef[] = [
  defineRoute({
    method: "GET", path: "/api/v1/usage", tag: "usage",
    summary: "Usage report: requests, errors, tokens by type and cost per 1m/1h/1d bucket, grouped and filtered by key, workspace, model, provider, deployment (the credential that served); test keys' usage apart (test_usage=only)",
    query: usageQuery,
    handler: async ({ query, principal, services: s }) => {
      const rep = await buildUsageReport(s.store, toRequest(query, principal), s.clock.now());
      if (!rep) throw new AppError("invalid_request", "page is not a next_page token of this report");
      return { body: presentUsageReport(rep) };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/cost", tag: "usage",
    summary: "Cost report: the usage report's buckets with cost in USD (decimal strings)",
    query: usageQuery,
    handler: async ({ query, principal, services: s }) => {
      const rep = await buildUsageReport(s.store, toRequest(query, principal), s.clock.now());
      if (!rep) throw new AppError("invalid_request", "page is not a next_page token of this report");
      return { body: presentCostReport(rep) };
    },
  }),
];
