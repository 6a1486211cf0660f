import type { Kysely, Selectable } from "kysely";
import type { Database } from "./database.js";
import { parseJson, parseRateLimits, parseSpendLimit, toJson } from "./json.js";
import type { OrganizationRow, Tables, WorkspaceRow } from "./schema.js";
import type { Organization, Page, PageRequest, RateLimits, SpendLimit, Workspace } from "./types.js";

export interface OrgChanges {
  name?: string;
  rateLimits?: RateLimits | null;
  spendLimit?: SpendLimit | null;
  settings?: Record<string, unknown>;
}

export interface WorkspaceChanges {
  name?: string;
  allowedModels?: string[] | null;
  rateLimits?: RateLimits | null;
  spendLimit?: SpendLimit | null;
  archivedAt?: number | null;
}

/** Organizations and their workspaces. */
export class OrgStore {
  constructor(private readonly database: Database) {}

  async insertOrganization(org: Organization, db: Kysely<Tables> = this.database.db): Promise<void> {
    await db.insertInto("organizations").values({
      id: org.id, name: org.name, rate_limits: toJson(org.rateLimits), spend_limit: toJson(org.spendLimit),
      settings: JSON.stringify(org.settings), created_at: org.createdAt,
    }).execute();
  }

  /** The organization (a deployment serves one; the first is it). */
  async getOrganization(db: Kysely<Tables> = this.database.db): Promise<Organization | null> {
    const row = await db.selectFrom("organizations").selectAll().orderBy("created_at").limit(1).executeTakeFirst();
    return row ? toOrganization(row) : null;
  }

  async getOrganizationById(id: string, db: Kysely<Tables> = this.database.db): Promise<Organization | null> {
    const row = await db.selectFrom("organizations").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toOrganization(row) : null;
  }

  async updateOrganization(id: string, c: OrgChanges, db: Kysely<Tables> = this.database.db): Promise<void> {
    const set: Partial<OrganizationRow> = {};
    if (c.name !== undefined) set.name = c.name;
    if (c.rateLimits !== undefined) set.rate_limits = toJson(c.rateLimits);
    if (c.spendLimit !== undefined) set.spend_limit = toJson(c.spendLimit);
    if (c.settings !== undefined) set.settings = JSON.stringify(c.settings);
    if (Object.keys(set).length) await db.updateTable("organizations").set(set).where("id", "=", id).execute();
  }

  async insertWorkspace(w: Workspace, db: Kysely<Tables> = this.database.db): Promise<void> {
    await db.insertInto("workspaces").values({
      id: w.id, org_id: w.orgId, name: w.name, is_default: w.isDefault ? 1 : 0, allowed_models: toJson(w.allowedModels),
      rate_limits: toJson(w.rateLimits), spend_limit: toJson(w.spendLimit), archived_at: w.archivedAt, created_at: w.createdAt,
    }).execute();
  }

  async getWorkspace(id: string, db: Kysely<Tables> = this.database.db): Promise<Workspace | null> {
    const row = await db.selectFrom("workspaces").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toWorkspace(row) : null;
  }

  async listWorkspaces(orgId: string, page: PageRequest, opts: { includeArchived?: boolean } = {}): Promise<Page<Workspace>> {
    let q = this.database.db.selectFrom("workspaces").selectAll().where("org_id", "=", orgId);
    if (!opts.includeArchived) q = q.where("archived_at", "is", null);
    if (page.after) q = q.where("id", ">", page.after);
    const rows = await q.orderBy("id").limit(page.limit + 1).execute();
    return toPage(rows.map(toWorkspace), page.limit);
  }

  async updateWorkspace(id: string, c: WorkspaceChanges, db: Kysely<Tables> = this.database.db): Promise<void> {
    const set: Partial<WorkspaceRow> = {};
    if (c.name !== undefined) set.name = c.name;
    if (c.allowedModels !== undefined) set.allowed_models = toJson(c.allowedModels);
    if (c.rateLimits !== undefined) set.rate_limits = toJson(c.rateLimits);
    if (c.spendLimit !== undefined) set.spend_limit = toJson(c.spendLimit);
    if (c.archivedAt !== undefined) set.archived_at = c.archivedAt;
    if (Object.keys(set).length) await db.updateTable("workspaces").set(set).where("id", "=", id).execute();
  }
}

export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  return { data, hasMore, lastId: data.length ? data[data.length - 1]!.id : null };
}

function toOrganization(r: Selectable<OrganizationRow>): Organization {
  return {
    id: r.id, name: r.name, rateLimits: parseRateLimits(r.rate_limits), spendLimit: parseSpendLimit(r.spend_limit),
    settings: parseJson<Record<string, unknown>>(r.settings) ?? {}, createdAt: r.created_at,
  };
}

function toWorkspace(r: Selectable<WorkspaceRow>): Workspace {
  return {
    id: r.id, orgId: r.org_id, name: r.name, isDefault: r.is_default === 1, allowedModels: parseJson<string[]>(r.allowed_models),
    rateLimits: parseRateLimits(r.rate_limits), spendLimit: parseSpendLimit(r.spend_limit), archivedAt: r.archived_at, createdAt: r.created_at,
  };
}
