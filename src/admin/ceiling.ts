import { hasScope } from "../keys/index.js";
import type { ApiKey, UserRole } from "../store/index.js";
import type { Principal } from "./route.js";
import { ROLE_SCOPES } from "./users-roles.js";

/**
 * The ceiling rule: no principal creates, changes or rolls anything that grants more than it holds.
 * Each check answers why it refuses (a sentence for the caller), or null when the grant is within
 * the caller's own power. Pure functions over plain data, so property tests can drive them.
 */
type Holder = Pick<Principal, "scopes" | "workspaceIds" | "role" | "type">;

/** Whether the holder has this admin scope; "*" is held only by "*" itself (it covers scopes added later). */
export function holds(h: Holder, scope: string): boolean {
  return scope === "*" ? h.scopes.includes("*") : hasScope(h.scopes, scope);
}

function limited(h: Holder): boolean {
  return Array.isArray(h.workspaceIds);
}

/** An admin key with these scopes, made or changed or rolled by `h`. Gateway keys grant no management power. */
export function adminKeyExcess(h: Holder, scopes: readonly string[]): string | null {
  if (limited(h)) return "an admin key reaches the whole organization; a principal limited to some workspaces cannot create or change one";
  const missing = scopes.filter((s) => !holds(h, s));
  if (missing.length) return `an admin key cannot get scopes its maker does not hold: ${missing.join(", ")}`;
  return null;
}

/** Acting on an existing key (change, roll, revoke, disable, enable, report): an admin key must be within the caller's power. */
export function keyTargetExcess(h: Holder, key: Pick<ApiKey, "kind" | "scopes">): string | null {
  return key.kind === "admin" ? adminKeyExcess(h, key.scopes) : null;
}

/** Making, changing or removing a user with this role, or inviting one. */
export function roleExcess(h: Holder, role: UserRole): string | null {
  if (limited(h)) return "a principal limited to some workspaces cannot manage people";
  if (role === "owner") {
    return h.role === "owner" || (h.type === "key" && h.scopes.includes("*")) ? null : "only an owner (or a key with every scope) may make, change or remove an owner";
  }
  const missing = ROLE_SCOPES[role].filter((s) => s !== "models:read" && !holds(h, s));
  return missing.length ? `the ${role} role holds scopes you do not: ${missing.join(", ")}` : null;
}

/** The settings of a key that narrow what it may do; null means "no limit". */
export interface KeyLimits {
  rateLimits?: { requestsPerMinute: number | null; tokensPerMinute: number | null; concurrentRequests: number | null } | null | undefined;
  spendLimit?: { amountNano: number; period: string } | null | undefined;
  allowedModels?: readonly string[] | null | undefined;
  ipAllowlist?: readonly string[] | null | undefined;
  allowedOrigins?: readonly string[] | null | undefined;
  expiresAt?: number | null | undefined;
}

function listLoosened(old: readonly string[] | null | undefined, next: readonly string[] | null | undefined): boolean {
  if (next === undefined || old === null || old === undefined) return false;
  return next === null || next.some((v) => !old.includes(v));
}

function countLoosened(old: number | null, next: number | null): boolean {
  return old !== null && (next === null || next > old);
}

/** The fields of a change that would loosen a key's limits (undefined fields are left as they are). */
export function loosenedLimits(old: KeyLimits, next: KeyLimits): string[] {
  const out: string[] = [];
  if (next.rateLimits !== undefined && old.rateLimits) {
    const o = old.rateLimits;
    const n = next.rateLimits ?? { requestsPerMinute: null, tokensPerMinute: null, concurrentRequests: null };
    if (countLoosened(o.requestsPerMinute, n.requestsPerMinute) || countLoosened(o.tokensPerMinute, n.tokensPerMinute)
      || countLoosened(o.concurrentRequests, n.concurrentRequests)) out.push("rate_limits");
  }
  if (next.spendLimit !== undefined && old.spendLimit) {
    const n = next.spendLimit;
    if (n === null || n.period !== old.spendLimit.period || n.amountNano > old.spendLimit.amountNano) out.push("spend_limit");
  }
  if (listLoosened(old.allowedModels, next.allowedModels)) out.push("allowed_models");
  if (listLoosened(old.ipAllowlist, next.ipAllowlist)) out.push("ip_allowlist");
  if (listLoosened(old.allowedOrigins, next.allowedOrigins)) out.push("allowed_origins");
  if (next.expiresAt !== undefined && old.expiresAt !== null && old.expiresAt !== undefined && (next.expiresAt === null || next.expiresAt > old.expiresAt)) {
    out.push("expires_at");
  }
  return out;
}

/**
 * Loosening a key's limits is granting more: only a principal that sets limits for workspaces
 * (workspaces:write) may do it. Anyone who may change the key may tighten them.
 */
export function limitsExcess(h: Holder, old: KeyLimits, next: KeyLimits): string | null {
  if (holds(h, "workspaces:write") && !limited(h)) return null;
  const loosened = loosenedLimits(old, next);
  return loosened.length ? `only a principal with workspaces:write may loosen a key's limits (${loosened.join(", ")})` : null;
}
