import type { Actor } from "../keys/index.js";
import type { ApiKey } from "../store/index.js";
import { adminKeyExcess } from "./ceiling.js";
import { ruleFor } from "./policy.js";
import type { Principal } from "./route.js";
import type { AdminServices } from "./services.js";

/** Whether a principal could still have made this key: the policy's create rule and the ceiling. */
function couldMake(p: Principal, k: ApiKey): boolean {
  if (!ruleFor("POST", "/api/v1/keys").roles.includes(p.role as never)) return false;
  if (p.workspaceIds && !p.workspaceIds.includes(k.workspaceId)) return false;
  return k.kind !== "admin" || adminKeyExcess(p, k.scopes) === null;
}

/**
 * Disables (audited, with the reason) the active keys a user made that they could no longer make:
 * all of them when the user is removed (`next` null), those beyond the new role when it changes.
 * A key outliving the person or permission behind it is how a departed user keeps access.
 */
export async function disableKeysBeyond(s: AdminServices, userId: string, orgId: string, next: Principal | null, actor: Actor): Promise<string[]> {
  const disabled: string[] = [];
  const reason = next ? "its creator no longer holds the role that allowed it" : "its creator was removed";
  let after: string | undefined;
  for (;;) {
    const page = await s.keys.list({ orgId, createdBy: userId, status: "active" }, { limit: 500, after });
    for (const k of page.data) {
      if (next && couldMake(next, k)) continue;
      await s.keys.disable(k.id, actor, reason);
      disabled.push(k.id);
    }
    if (!page.hasMore || !page.lastId) return disabled;
    after = page.lastId;
  }
}
