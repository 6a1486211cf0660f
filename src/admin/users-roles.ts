import { ADMIN_SCOPES } from "../keys/index.js";
import type { User, UserRole } from "../store/index.js";
import type { Principal } from "./route.js";

const READS = ADMIN_SCOPES.filter((s) => s.endsWith(":read"));

/**
 * What each console role may do, as admin scopes: the server checks these on every request, so
 * hiding a button in the page is never the only guard.
 */
export const ROLE_SCOPES: Record<UserRole, readonly string[]> = {
  owner: ["*"],
  admin: ADMIN_SCOPES,
  // Keys only in the workspaces they are members of (Principal.workspaceIds narrows them).
  developer: ["keys:write", "workspaces:read", "usage:read", "org:read", "models:read"],
  billing: ["billing:write", "org:write", "usage:read", "keys:read", "workspaces:read", "alerts:read", "webhooks:write", "models:read"],
  viewer: [...READS, "models:read"],
};

export function principalForUser(u: User): Principal {
  return {
    type: "user", id: u.id, orgId: u.orgId, role: u.role, scopes: [...ROLE_SCOPES[u.role]],
    workspaceIds: u.role === "developer" ? (u.workspaceIds ?? []) : null,
  };
}
