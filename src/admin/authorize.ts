import { AppError } from "../errors/index.js";
import { hasScope } from "../keys/index.js";
import type { Rule } from "./policy.js";
import type { Principal } from "./route.js";

/**
 * Whether a principal may call an operation at all, by the policy: a console user by role, an
 * admin key by scope. Resource narrowing (workspaces) follows in the handler through inWorkspace().
 */
export function authorize(p: Principal, r: Rule): void {
  if (r.resource === "public" || r.scope === "authenticated") return;
  if (p.type === "user") {
    if (!r.roles.includes(p.role as never)) throw new AppError("forbidden", `your role (${p.role}) does not allow this`);
    return;
  }
  if (!hasScope(p.scopes, r.scope)) throw new AppError("forbidden", `this key lacks the '${r.scope}' scope`);
  if (r.resource === "organization" && Array.isArray(p.workspaceIds)) throw new AppError("forbidden", "this reaches the whole organization");
}

/** The policy's workspace narrowing: a principal limited to workspaces reaches only its own. */
export function inWorkspace(p: Principal, workspaceId: string, what = "resource"): void {
  if (p.workspaceIds && !p.workspaceIds.includes(workspaceId)) throw new AppError("forbidden", `this ${what} is in a workspace you are not a member of`);
}

/** Refuses with the ceiling's reason when there is one. */
export function within(reason: string | null): void {
  if (reason) throw new AppError("forbidden", reason);
}
