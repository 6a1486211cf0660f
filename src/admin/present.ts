import { toIso } from "../lib/index.js";
import type { ApiKey, AuditEvent, Organization, Workspace } from "../store/index.js";
import { presentRateLimits, presentSpendLimit } from "./schemas.js";

/** Effective status: an active key past its expiry reads as expired. */
export function keyStatus(k: ApiKey, now: number): string {
  return k.status === "active" && k.expiresAt !== null && k.expiresAt <= now ? "expired" : k.status;
}

export function presentKey(k: ApiKey, now: number) {
  return {
    id: k.id, object: "api_key", name: k.name, kind: k.kind, workspace_id: k.workspaceId, hint: k.hint, scopes: k.scopes,
    allowed_models: k.allowedModels, ip_allowlist: k.ipAllowlist, allowed_origins: k.allowedOrigins,
    rate_limits: presentRateLimits(k.rateLimits), spend_limit: presentSpendLimit(k.spendLimit),
    expires_at: toIso(k.expiresAt), metadata: k.metadata, status: keyStatus(k, now), created_at: toIso(k.createdAt),
    created_by: k.createdBy, updated_at: toIso(k.updatedAt), last_used_at: toIso(k.lastUsedAt), revoked_at: toIso(k.revokedAt),
    rolled_from: k.rolledFrom,
  };
}

export function presentWorkspace(w: Workspace) {
  return {
    id: w.id, object: "workspace", name: w.name, is_default: w.isDefault, allowed_models: w.allowedModels,
    rate_limits: presentRateLimits(w.rateLimits), spend_limit: presentSpendLimit(w.spendLimit),
    archived_at: toIso(w.archivedAt), created_at: toIso(w.createdAt),
  };
}

export function presentOrganization(o: Organization) {
  return {
    id: o.id, object: "organization", name: o.name, rate_limits: presentRateLimits(o.rateLimits),
    spend_limit: presentSpendLimit(o.spendLimit), settings: o.settings, created_at: toIso(o.createdAt),
  };
}

export function presentAudit(e: AuditEvent) {
  return {
    id: e.id, object: "audit_event", seq: e.seq, at: toIso(e.at), actor: e.actor, action: e.action, target: e.target,
    changes: e.changes, request_id: e.requestId, client_ip: e.clientIp, hash: e.hash,
  };
}

export function page<T>(data: T[], hasMore: boolean, lastId: string | null) {
  return { data, has_more: hasMore, last_id: lastId };
}
