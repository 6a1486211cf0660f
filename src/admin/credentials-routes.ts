import { z } from "zod";
import { NotFoundError, ValidationError } from "../errors/index.js";
import { newId, toIso } from "../lib/index.js";
import { PROVIDER_IDS, probeCredential, type CredentialVault } from "../providers/index.js";
import type { ProviderCredential } from "../store/index.js";
import { audited } from "./audit.js";
import { page } from "./present.js";
import { defineRoute, type RouteDef } from "./route.js";
import type { AdminServices } from "./services.js";

declare module "./services.js" {
  interface AdminServices {
    /** Unwraps provider credentials; only credential routes use it. */
    masterKey: Buffer;
    /** The gateway's decrypted-credential cache, invalidated after every change. */
    credentialVault?: CredentialVault;
  }
}

const createBody = z.strictObject({
  provider: z.enum(PROVIDER_IDS),
  name: z.string().trim().min(1).max(200),
  secret: z.string().min(8).max(4096),
  // No user or password in the URL: it is shown in lists and written to the audit log.
  // zod runs the refinement even after the URL check failed: a non-URL is that check's to report.
  base_url: z.url({ protocol: /^https?$/ }).refine((u) => !URL.canParse(u) || (({ username, password }) => !username && !password)(new URL(u)), "must not carry a user name or password; put the secret in `secret`").nullable().optional(),
  workspace_id: z.string().min(1).max(64).nullable().optional(),
  weight: z.number().int().min(1).max(1000).optional(),
});

/** A credential as the API shows it: never the secret, only its hint. */
function presentCredential(c: ProviderCredential) {
  return {
    id: c.id, object: "credential", provider: c.provider, name: c.name, hint: c.hint, base_url: c.baseUrl,
    workspace_id: c.workspaceId, weight: c.weight, created_at: toIso(c.createdAt), created_by: c.createdBy,
  };
}

async function ownCredential(s: AdminServices, orgId: string, id: string): Promise<ProviderCredential> {
  const c = await s.store.credentials.get(id);
  if (!c || c.orgId !== orgId) throw new NotFoundError("credential");
  return c;
}

export const credentialRoutes: RouteDef[] = [
  defineRoute({
    method: "POST", path: "/api/v1/credentials", tag: "credentials",
    summary: "Store a provider credential, encrypted; `secret` is write-only and never returned",
    body: createBody,
    handler: async ({ body, principal, actor, services: s }) => {
      if (body.workspace_id) {
        const ws = await s.store.orgs.getWorkspace(body.workspace_id);
        if (!ws || ws.orgId !== principal.orgId) throw new ValidationError([{ field: "workspace_id", message: "no such workspace" }]);
        if (ws.archivedAt !== null) throw new ValidationError([{ field: "workspace_id", message: "the workspace is archived" }]);
      }
      const now = s.clock.now();
      const id = newId("cred", now);
      const created = await audited(s, actor, "credential.created", id, { provider: body.provider, name: body.name, base_url: body.base_url ?? null, workspace_id: body.workspace_id ?? null }, (trx) =>
        s.store.credentials.insert({
          id, orgId: principal.orgId, workspaceId: body.workspace_id ?? null, provider: body.provider, name: body.name, secret: body.secret,
          baseUrl: body.base_url ?? null, weight: body.weight ?? 1, createdAt: now, createdBy: actor.id,
        }, s.masterKey, trx));
      s.credentialVault?.invalidate();
      return { status: 201, body: presentCredential(created) };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/credentials", tag: "credentials", summary: "List provider credentials (hints only)",
    handler: async ({ principal, services: s }) => {
      const list = await s.store.credentials.list(principal.orgId);
      return { body: page(list.map(presentCredential), false, list.at(-1)?.id ?? null) };
    },
  }),
  defineRoute({
    method: "DELETE", path: "/api/v1/credentials/:id", tag: "credentials", summary: "Delete a provider credential",
    handler: async ({ params, principal, actor, services: s }) => {
      const c = await ownCredential(s, principal.orgId, params.id!);
      await audited(s, actor, "credential.deleted", c.id, { provider: c.provider, name: c.name }, (trx) => s.store.credentials.delete(c.id, trx));
      s.credentialVault?.invalidate();
      return { body: { id: c.id, object: "credential", deleted: true } };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/credentials/:id/test", tag: "credentials", summary: "Check a credential against its provider",
    handler: async ({ params, principal, services: s }) => {
      const c = await ownCredential(s, principal.orgId, params.id!);
      const secret = await s.store.credentials.secretOf(c.id, s.masterKey);
      if (secret === null) throw new NotFoundError("credential");
      const r = await probeCredential(c.provider, c.baseUrl, secret);
      return { body: { id: c.id, ok: r.ok, status: r.status, latency_ms: r.latencyMs, message: r.message } };
    },
  }),
];
