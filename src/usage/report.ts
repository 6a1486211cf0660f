import { nanoToUsd } from "../lib/index.js";
import { DAY_MS, HOUR_MS, MINUTE_MS, type ReportDimension, type Store, type UsageGroupRow } from "../store/index.js";

export type BucketWidth = "1m" | "1h" | "1d";
export const WIDTH_MS: Record<BucketWidth, number> = { "1m": MINUTE_MS, "1h": HOUR_MS, "1d": DAY_MS };
/** Buckets per page, as Anthropic's usage report: default and maximum per width. */
export const BUCKET_LIMITS: Record<BucketWidth, { def: number; max: number }> = { "1m": { def: 60, max: 1440 }, "1h": { def: 24, max: 168 }, "1d": { def: 7, max: 31 } };

/** Public group names and the column each one reads. */
export const GROUP_FIELDS = { api_key_id: "key_id", workspace_id: "workspace_id", model: "model", provider: "provider", deployment_id: "deployment" } as const satisfies Record<string, ReportDimension>;
export type GroupField = keyof typeof GROUP_FIELDS;

export interface UsageReportRequest {
  orgId: string;
  start: number;
  /** Exclusive; defaults to `now`. */
  end?: number | undefined;
  width: BucketWidth;
  groupBy: GroupField[];
  filters: Partial<Record<GroupField, string[]>>;
  /** A developer's workspaces: the report never reaches outside them. Null for everyone else. */
  allowedWorkspaces?: string[] | null | undefined;
  limit?: number | undefined;
  /** The `next_page` token of the previous page. */
  page?: string | undefined;
  /** Test keys' (simulated) usage alone; by default it is left out. */
  test?: boolean | undefined;
}

export interface ReportBucket {
  start: number;
  end: number;
  rows: UsageGroupRow[];
}

export interface UsageReport {
  groupBy: GroupField[];
  buckets: ReportBucket[];
  hasMore: boolean;
  nextPage: string | null;
}

export function encodePage(ms: number): string {
  return Buffer.from(`p:${ms}`).toString("base64url");
}

export function decodePage(token: string): number | null {
  const m = /^p:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  return m ? Number(m[1]) : null;
}

/**
 * A usage report: buckets aligned to UTC minute/hour/day boundaries (the first bucket is the one
 * containing `start`), every bucket present even when empty, paged by `limit` buckets. Hour and
 * day buckets read the roll-ups (plus events not rolled up yet); minute buckets read raw events,
 * which paging keeps to at most one day per page.
 */
export async function buildUsageReport(store: Store, r: UsageReportRequest, now: number): Promise<UsageReport | null> {
  const w = WIDTH_MS[r.width];
  const limit = Math.min(r.limit ?? BUCKET_LIMITS[r.width].def, BUCKET_LIMITS[r.width].max);
  const first = Math.floor(r.start / w) * w;
  const end = Math.ceil((r.end ?? now) / w) * w;
  const pageStart = r.page ? decodePage(r.page) : first;
  if (pageStart === null || pageStart < first || pageStart % w !== 0) return null;
  const pageEnd = Math.min(end, pageStart + limit * w);

  const filters: Partial<Record<ReportDimension, string[]>> = {};
  for (const [field, values] of Object.entries(r.filters)) if (values?.length) filters[GROUP_FIELDS[field as GroupField]] = values;
  let empty = false;
  if (r.allowedWorkspaces) {
    const asked = filters.workspace_id;
    filters.workspace_id = asked ? asked.filter((id) => r.allowedWorkspaces!.includes(id)) : [...r.allowedWorkspaces];
    empty = filters.workspace_id.length === 0;
  }
  const dims = r.groupBy.map((g) => GROUP_FIELDS[g]);
  const rows = empty || pageEnd <= pageStart ? [] : await store.usageWriter.report({ orgId: r.orgId, start: pageStart, end: pageEnd, widthMs: w, groupBy: dims, filters, test: r.test === true });

  const buckets: ReportBucket[] = [];
  const index = new Map<number, ReportBucket>();
  for (let t = pageStart; t < pageEnd; t += w) {
    const b = { start: t, end: t + w, rows: [] as UsageGroupRow[] };
    buckets.push(b);
    index.set(t, b);
  }
  for (const row of rows) index.get(row.bucket)?.rows.push(row);
  for (const b of buckets) b.rows.sort((x, y) => compareGroups(x, y, dims));
  const hasMore = pageEnd < end;
  return { groupBy: r.groupBy, buckets, hasMore, nextPage: hasMore ? encodePage(pageEnd) : null };
}

function compareGroups(a: UsageGroupRow, b: UsageGroupRow, dims: ReportDimension[]): number {
  for (const d of dims) {
    const x = a.group[d] ?? "";
    const y = b.group[d] ?? "";
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function groupFields(row: UsageGroupRow): Partial<Record<GroupField, string | null>> {
  const fields: Partial<Record<GroupField, string | null>> = {
    api_key_id: row.group.key_id ?? null, workspace_id: row.group.workspace_id ?? null, model: row.group.model ?? null, provider: row.group.provider ?? null,
  };
  // Only when asked for: answers that do not group by deployment keep their shape. "" is no deployment.
  if (row.group.deployment !== undefined) fields.deployment_id = row.group.deployment || null;
  return fields;
}

/** The wire shape of `GET /api/v1/usage`, as Anthropic's usage report (token counts by type). */
export function presentUsageReport(rep: UsageReport) {
  return {
    data: rep.buckets.map((b) => ({
      starting_at: new Date(b.start).toISOString(),
      ending_at: new Date(b.end).toISOString(),
      results: b.rows.map((row) => ({
        ...groupFields(row),
        requests: row.requests, errors: row.errors,
        uncached_input_tokens: row.inputTokens, cache_creation_input_tokens: row.cacheWriteTokens,
        cache_read_input_tokens: row.cacheReadTokens, output_tokens: row.outputTokens,
        cost_usd: nanoToUsd(row.costNano, 9), cost_nano_usd: row.costNano,
      })),
    })),
    has_more: rep.hasMore,
    next_page: rep.nextPage,
  };
}

/** The wire shape of `GET /api/v1/cost`: the same buckets, cost only, in USD. */
export function presentCostReport(rep: UsageReport) {
  return {
    data: rep.buckets.map((b) => ({
      starting_at: new Date(b.start).toISOString(),
      ending_at: new Date(b.end).toISOString(),
      results: b.rows.map((row) => ({ ...groupFields(row), currency: "USD", amount: nanoToUsd(row.costNano, 9), amount_nano_usd: row.costNano })),
    })),
    has_more: rep.hasMore,
    next_page: rep.nextPage,
  };
}
