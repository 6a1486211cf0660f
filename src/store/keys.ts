import type { Kysely, Selectable } from "kysely";
import { inTransaction, type Database } from "./database.js";
import { parseJson, parseRateLimits, parseSpendLimit, toJson } from "./json.js";
import { toPage } from "./orgs.js";
import type { ApiKeyRow, Tables } from "./schema.js";
import type { ApiKey, KeyStatus, Page, PageRequest } from "./types.js";

export interface KeyFilter {
  orgId: string;
  workspaceId?: string | undefined;
  workspaceIds?: string[] | undefined;
  status?: KeyStatus | "expired" | undefined;
  kind?: ApiKey["kind"] | undefined;
  /** The user or key that created it. */
  createdBy?: string | undefined;
  /** Case-insensitive substring of the name or hint. */
  search?: string | undefined;
  now: number;
}

export type KeyChanges = Partial<Pick<ApiKey,
  "name" | "scopes" | "allowedModels" | "ipAllowlist" | "allowedOrigins" | "rateLimits" | "spendLimit" | "metadata" | "status" | "expiresAt" | "revokedAt">> & { updatedAt: number };

/** API keys, found by id or by the hash of their plaintext. */
export class KeyStore {
  constructor(private readonly database: Database) {}

  async insert(k: ApiKey, db: Kysely<Tables> = this.database.db): Promise<void> {
    await db.insertInto("api_keys").values(toRow(k)).execute();
  }

  async getById(id: string, db: Kysely<Tables> = this.database.db): Promise<ApiKey | null> {
    const row = await db.selectFrom("api_keys").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toKey(row) : null;
  }

  async getByHash(hash: string): Promise<ApiKey | null> {
    const row = await this.database.db.selectFrom("api_keys").selectAll().where("key_hash", "=", hash).executeTakeFirst();
    return row ? toKey(row) : null;
  }

  async list(f: KeyFilter, page: PageRequest): Promise<Page<ApiKey>> {
    let q = this.database.db.selectFrom("api_keys").selectAll().where("org_id", "=", f.orgId);
    if (f.workspaceId) q = q.where("workspace_id", "=", f.workspaceId);
    if (f.workspaceIds) q = q.where("workspace_id", "in", f.workspaceIds.length ? f.workspaceIds : ["-"]);
    if (f.kind) q = q.where("kind", "=", f.kind);
    if (f.createdBy) q = q.where("created_by", "=", f.createdBy);
    if (f.status === "expired") {
      q = q.where("status", "=", "active").where("expires_at", "<=", f.now);
    } else if (f.status === "active") {
      q = q.where("status", "=", "active").where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", f.now)]));
    } else if (f.status) {
      q = q.where("status", "=", f.status);
    }
    if (f.search) {
      const like = `%${f.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) => eb.or([eb(eb.fn("lower", ["name"]), "like", like), eb(eb.fn("lower", ["hint"]), "like", like)]));
    }
    if (page.after) q = q.where("id", ">", page.after);
    const rows = await q.orderBy("id").limit(page.limit + 1).execute();
    return toPage(rows.map(toKey), page.limit);
  }

  async update(id: string, c: KeyChanges, db: Kysely<Tables> = this.database.db): Promise<void> {
    const set: Partial<ApiKeyRow> = { updated_at: c.updatedAt };
    if (c.name !== undefined) set.name = c.name;
    if (c.scopes !== undefined) set.scopes = JSON.stringify(c.scopes);
    if (c.allowedModels !== undefined) set.allowed_models = toJson(c.allowedModels);
    if (c.ipAllowlist !== undefined) set.ip_allowlist = toJson(c.ipAllowlist);
    if (c.allowedOrigins !== undefined) set.allowed_origins = toJson(c.allowedOrigins);
    if (c.rateLimits !== undefined) set.rate_limits = toJson(c.rateLimits);
    if (c.spendLimit !== undefined) set.spend_limit = toJson(c.spendLimit);
    if (c.metadata !== undefined) set.metadata = JSON.stringify(c.metadata);
    if (c.status !== undefined) set.status = c.status;
    if (c.expiresAt !== undefined) set.expires_at = c.expiresAt;
    if (c.revokedAt !== undefined) set.revoked_at = c.revokedAt;
    await db.updateTable("api_keys").set(set).where("id", "=", id).execute();
  }

  /** Records last use for several keys in one statement each; called from a batch, never per request. */
  async touch(lastUsed: Map<string, number>): Promise<void> {
    if (lastUsed.size === 0) return;
    await inTransaction(this.database, async (trx) => {
      for (const [id, at] of lastUsed) {
        await trx.updateTable("api_keys").set({ last_used_at: at }).where("id", "=", id)
          .where((eb) => eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<", at)])).execute();
      }
    });
  }

  async count(orgId: string): Promise<number> {
    const r = await this.database.db.selectFrom("api_keys").select((eb) => eb.fn.countAll<number>().as("n")).where("org_id", "=", orgId).executeTakeFirstOrThrow();
    return Number(r.n);
  }
}

function toRow(k: ApiKey): ApiKeyRow {
  return {
    id: k.id, org_id: k.orgId, workspace_id: k.workspaceId, name: k.name, kind: k.kind, key_hash: k.keyHash, hint: k.hint,
    scopes: JSON.stringify(k.scopes), allowed_models: toJson(k.allowedModels), ip_allowlist: toJson(k.ipAllowlist),
    allowed_origins: toJson(k.allowedOrigins), rate_limits: toJson(k.rateLimits), spend_limit: toJson(k.spendLimit),
    metadata: JSON.stringify(k.metadata), status: k.status, expires_at: k.expiresAt, created_at: k.createdAt,
    created_by: k.createdBy, updated_at: k.updatedAt, last_used_at: k.lastUsedAt, revoked_at: k.revokedAt, rolled_from: k.rolledFrom,
  };
}

export function toKey(r: Selectable<ApiKeyRow>): ApiKey {
  return {
    id: r.id, orgId: r.org_id, workspaceId: r.workspace_id, name: r.name, kind: r.kind as ApiKey["kind"], keyHash: r.key_hash,
    hint: r.hint, scopes: JSON.parse(r.scopes) as string[], allowedModels: parseJson<string[]>(r.allowed_models),
    ipAllowlist: parseJson<string[]>(r.ip_allowlist), allowedOrigins: parseJson<string[]>(r.allowed_origins),
    rateLimits: parseRateLimits(r.rate_limits), spendLimit: parseSpendLimit(r.spend_limit),
    metadata: parseJson<Record<string, unknown>>(r.metadata) ?? {}, status: r.status as KeyStatus, expiresAt: r.expires_at,
    createdAt: r.created_at, createdBy: r.created_by, updatedAt: r.updated_at, lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at, rolledFrom: r.rolled_from,
  };
}
