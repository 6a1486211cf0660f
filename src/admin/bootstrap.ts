import { newId } from "../lib/index.js";
import { inTransaction } from "../store/index.js";
import type { AdminServices } from "./services.js";

export interface BootstrapResult {
  orgId: string;
  workspaceId: string;
  /** Present only on the run that created the organization: the plaintexts, shown once. */
  created?: { adminKey: string; testKey: string };
  /** A one-time link to create the first console owner, while none exists. */
  setupUrl?: string;
}

/**
 * Makes sure the organization and its default workspace exist. On the first run it also issues
 * one admin key and one test key and returns their plaintexts, which are never stored.
 */
export async function bootstrap(s: AdminServices, orgName = "My organization"): Promise<BootstrapResult> {
  const existing = await s.store.orgs.getOrganization();
  if (existing) {
    const list = await s.store.orgs.listWorkspaces(existing.id, { limit: 1000 }, { includeArchived: true });
    const ws = list.data.find((w) => w.isDefault) ?? list.data[0]!;
    return { orgId: existing.id, workspaceId: ws.id };
  }
  const now = s.clock.now();
  const orgId = newId("org", now);
  const workspaceId = newId("wrk", now);
  const actor = { id: "system", orgId, requestId: null, clientIp: null };
  return inTransaction(s.store.database, async (trx) => {
    await s.store.orgs.insertOrganization({ id: orgId, name: orgName, rateLimits: null, spendLimit: null, settings: {}, createdAt: now }, trx);
    await s.store.orgs.insertWorkspace({
      id: workspaceId, orgId, name: "Default", isDefault: true, allowedModels: null, rateLimits: null, spendLimit: null, archivedAt: null, createdAt: now,
    }, trx);
    await s.store.audit.append({ id: newId("aud", now), at: now, orgId, actor: "system", action: "organization.created", target: orgId, changes: { name: orgName }, requestId: null, clientIp: null }, trx);
    const admin = await s.keys.issue({ name: "Initial admin key", workspaceId, kind: "admin", scopes: ["*"] }, actor, { trx });
    const test = await s.keys.issue({ name: "Initial test key", workspaceId, kind: "test", scopes: ["*"] }, actor, { trx });
    return { orgId, workspaceId, created: { adminKey: admin.plaintext, testKey: test.plaintext } };
  });
}
