import type { UserRole } from "../store/index.js";

/**
 * How an operation's resource is narrowed for a principal limited to some workspaces (a developer):
 * - `organization`: an organization-wide resource; only principals not limited to workspaces.
 * - `workspace`: belongs to one workspace (a key, a workspace, a report filtered to workspaces);
 *   a limited principal reaches only its own workspaces, anything else answers 404.
 * - `self`: the caller's own session.
 * - `public`: no principal (the route authenticates itself: sign-in, setup, signed leak reports).
 */
export type ResourceScope = "organization" | "workspace" | "self" | "public";

/** The ceiling rule that applies to what the operation creates or changes (see ceiling.ts). */
export type Ceiling = "key" | "role" | "none";

export interface Rule {
  /** The admin scope an admin key needs; "authenticated" = any principal; "public" = none. */
  scope: string;
  /** Console roles that may call it. */
  roles: readonly UserRole[];
  resource: ResourceScope;
  ceiling: Ceiling;
}

const ALL: readonly UserRole[] = ["owner", "admin", "developer", "billing", "viewer"];
const KEY_WRITERS: readonly UserRole[] = ["owner", "admin", "developer"];
const ADMINS: readonly UserRole[] = ["owner", "admin"];
const READERS: readonly UserRole[] = ["owner", "admin", "viewer"];
const BILLING: readonly UserRole[] = ["owner", "admin", "billing"];
const BILLING_READERS: readonly UserRole[] = ["owner", "admin", "billing", "viewer"];
const NOBODY: readonly UserRole[] = [];

function rule(scope: string, roles: readonly UserRole[], resource: ResourceScope = "organization", ceiling: Ceiling = "none"): Rule {
  return { scope, roles, resource, ceiling };
}
const open = rule("public", NOBODY, "public");
const own = rule("authenticated", ALL, "self");

/**
 * The one authorization policy of the management API: every operation, keyed "METHOD /path".
 * The route helper refuses a route without an entry, and docs/security.md prints this table.
 */
export const POLICY: Readonly<Record<string, Rule>> = {
  "GET /api/v1/organization": rule("org:read", ALL),
  "PATCH /api/v1/organization": rule("org:write", BILLING),
  "GET /api/v1/workspaces": rule("workspaces:read", ALL, "workspace"),
  "POST /api/v1/workspaces": rule("workspaces:write", ADMINS),
  "GET /api/v1/workspaces/:id": rule("workspaces:read", ALL, "workspace"),
  "PATCH /api/v1/workspaces/:id": rule("workspaces:write", ADMINS),
  "POST /api/v1/workspaces/:id/archive": rule("workspaces:write", ADMINS),

  "POST /api/v1/keys": rule("keys:write", KEY_WRITERS, "workspace", "key"),
  "GET /api/v1/keys": rule("keys:read", ALL, "workspace"),
  "GET /api/v1/keys/:id": rule("keys:read", ALL, "workspace"),
  "PATCH /api/v1/keys/:id": rule("keys:write", KEY_WRITERS, "workspace", "key"),
  "POST /api/v1/keys/:id/roll": rule("keys:write", KEY_WRITERS, "workspace", "key"),
  "POST /api/v1/keys/:id/revoke": rule("keys:write", KEY_WRITERS, "workspace", "key"),
  "POST /api/v1/keys/:id/disable": rule("keys:write", KEY_WRITERS, "workspace", "key"),
  "POST /api/v1/keys/:id/enable": rule("keys:write", KEY_WRITERS, "workspace", "key"),
  "POST /api/v1/keys/:id/report-leak": rule("keys:write", KEY_WRITERS, "workspace", "key"),
  "POST /api/v1/keys/lookup": rule("keys:read", ALL, "workspace"),
  // Public, but every answer that is not "valid" counts as a failed authentication of the caller's
  // address; a key with keys:verify is not limited that way (a backend checking its callers' keys).
  "POST /api/v1/keys/verify": open,
  "POST /api/v1/leaks/github": open,

  "GET /api/v1/audit": rule("audit:read", READERS),
  "GET /api/v1/audit/verify": rule("audit:read", READERS),
  "POST /api/v1/audit/verify": rule("audit:read", READERS),
  "GET /api/v1/audit/checkpoint": rule("audit:read", READERS),
  "GET /api/v1/usage": rule("usage:read", ALL, "workspace"),
  "GET /api/v1/cost": rule("usage:read", ALL, "workspace"),
  "GET /api/v1/credits": rule("billing:read", BILLING_READERS),
  "POST /api/v1/credits": rule("billing:write", BILLING),
  "PATCH /api/v1/credits/settings": rule("billing:write", BILLING),
  "GET /api/v1/alerts": rule("alerts:read", BILLING_READERS),
  "POST /api/v1/webhooks": rule("webhooks:write", BILLING),
  "GET /api/v1/webhooks": rule("webhooks:read", BILLING_READERS),
  "DELETE /api/v1/webhooks/:id": rule("webhooks:write", BILLING),
  "GET /api/v1/webhooks/:id/deliveries": rule("webhooks:read", BILLING_READERS),
  "POST /api/v1/credentials": rule("credentials:write", ADMINS),
  "GET /api/v1/credentials": rule("credentials:read", READERS),
  "PATCH /api/v1/credentials/:id": rule("credentials:write", ADMINS),
  "DELETE /api/v1/credentials/:id": rule("credentials:write", ADMINS),
  "POST /api/v1/credentials/:id/test": rule("credentials:write", ADMINS),
  // Answers which held credentials found secrets are, and raises credential.leaked for them.
  "POST /api/v1/credentials/lookup": rule("credentials:read", READERS),
  "GET /api/v1/models": rule("authenticated", ALL),
  "GET /api/v1/models/:id": rule("authenticated", ALL),
  "POST /api/v1/models": rule("models:write", ADMINS),
  "PATCH /api/v1/models/:id": rule("models:write", ADMINS),
  "POST /api/v1/models/import": rule("models:write", ADMINS),
  "GET /metrics": rule("metrics:read", READERS),

  "POST /api/v1/session": open,
  "GET /api/v1/session": own,
  "DELETE /api/v1/session": own,
  "POST /api/v1/session/revoke-all": own,
  "GET /api/v1/setup": open,
  "POST /api/v1/setup": open,
  "POST /api/v1/invitations/inspect": open,
  "POST /api/v1/invitations/accept": open,
  "GET /api/v1/users": rule("users:read", READERS),
  "PATCH /api/v1/users/:id": rule("users:write", ADMINS, "organization", "role"),
  "DELETE /api/v1/users/:id": rule("users:write", ADMINS, "organization", "role"),
  "GET /api/v1/users/invitations": rule("users:read", READERS),
  "POST /api/v1/users/invitations": rule("users:write", ADMINS, "organization", "role"),
  "DELETE /api/v1/users/invitations/:id": rule("users:write", ADMINS, "organization", "role"),
};

export function policyKey(method: string, path: string): string {
  return `${method} ${path}`;
}

/** The rule for a route; a route without one is a programming error caught at start-up. */
export function ruleFor(method: string, path: string): Rule {
  const r = POLICY[policyKey(method, path)];
  if (!r) throw new Error(`no authorization rule for ${method} ${path}: add it to src/admin/policy.ts`);
  return r;
}
