import { z } from "zod";
import { NotFoundError } from "../errors/index.js";
import { hashFromSha256, KEY_KINDS, type KeySettings } from "../keys/index.js";
import { inWorkspace, within } from "./authorize.js";
import { adminKeyExcess, keyTargetExcess, limitsExcess } from "./ceiling.js";
import { defineRoute, type Principal, type RouteDef } from "./route.js";
import { modelList, pageQuery, rateLimitsSchema, spendLimitSchema, timestamp, toMs, toRateLimits, toSpendLimit } from "./schemas.js";
import { keyStatus, page, presentKey } from "./present.js";
import type { AdminServices } from "./services.js";

const keyFields = {
  name: z.string().trim().min(1).max(200),
  scopes: z.array(z.string().min(1).max(64)).max(50),
  allowed_models: modelList,
  ip_allowlist: z.array(z.string().max(64)).max(100).nullable(),
  allowed_origins: z.array(z.string().max(300)).max(50).nullable(),
  rate_limits: rateLimitsSchema,
  spend_limit: spendLimitSchema,
  expires_at: timestamp,
  metadata: z.record(z.string(), z.unknown()),
};

const createKeyBody = z.strictObject({
  ...keyFields,
  kind: z.enum(KEY_KINDS).default("live"),
  workspace_id: z.string().optional(),
  scopes: keyFields.scopes.optional(),
  allowed_models: keyFields.allowed_models.optional(),
  ip_allowlist: keyFields.ip_allowlist.optional(),
  allowed_origins: keyFields.allowed_origins.optional(),
  rate_limits: keyFields.rate_limits.optional(),
  spend_limit: keyFields.spend_limit.optional(),
  expires_at: keyFields.expires_at.optional(),
  metadata: keyFields.metadata.optional(),
});

const updateKeyBody = z.strictObject(Object.fromEntries(Object.entries(keyFields).map(([k, v]) => [k, v.optional()])) as { [K in keyof typeof keyFields]: z.ZodOptional<(typeof keyFields)[K]> });

const listKeysQuery = z.strictObject({
  ...pageQuery,
  workspace_id: z.string().optional(),
  status: z.enum(["active", "disabled", "revoked", "expired"]).optional(),
  kind: z.enum(KEY_KINDS).optional(),
  search: z.string().max(200).optional(),
});

/** A key the caller may see (the policy's workspace narrowing). */
export async function visibleKey(s: AdminServices, p: Principal, id: string) {
  const key = await s.keys.get(id, p.orgId);
  inWorkspace(p, key.workspaceId, "key");
  return key;
}

/** A key the caller may act on: visible, and (for an admin key) within the caller's own power. */
export async function changeableKey(s: AdminServices, p: Principal, id: string) {
  const key = await visibleKey(s, p, id);
  within(keyTargetExcess(p, key));
  return key;
}

async function defaultWorkspaceId(s: AdminServices, orgId: string): Promise<string> {
  const list = await s.store.orgs.listWorkspaces(orgId, { limit: 1000 });
  const ws = list.data.find((w) => w.isDefault) ?? list.data[0];
  if (!ws) throw new NotFoundError("default workspace");
  return ws.id;
}

export const keyRoutes: RouteDef[] = [
  defineRoute({
    method: "POST", path: "/api/v1/keys", tag: "keys", summary: "Create a key; the answer alone carries the plaintext `key`",
    body: createKeyBody,
    handler: async ({ body, principal, actor, services: s }) => {
      const workspaceId = body.workspace_id ?? (await defaultWorkspaceId(s, principal.orgId));
      inWorkspace(principal, workspaceId, "workspace");
      // An admin key left without scopes would get every scope: the ceiling judges what it would really get.
      if (body.kind === "admin") within(adminKeyExcess(principal, body.scopes ?? ["*"]));
      const settings: KeySettings = {
        name: body.name, kind: body.kind, workspaceId, scopes: body.scopes, allowedModels: body.allowed_models,
        ipAllowlist: body.ip_allowlist, allowedOrigins: body.allowed_origins, rateLimits: toRateLimits(body.rate_limits),
        spendLimit: toSpendLimit(body.spend_limit), expiresAt: toMs(body.expires_at), metadata: body.metadata,
      };
      const { key, plaintext } = await s.keys.issue(settings, actor);
      return { status: 201, body: { ...presentKey(key, s.clock.now()), key: plaintext } };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/keys", tag: "keys", summary: "List keys (filters, cursor pagination)",
    query: listKeysQuery,
    handler: async ({ query, principal, services: s }) => {
      const result = await s.keys.list({
        orgId: principal.orgId, workspaceId: query.workspace_id, workspaceIds: principal.workspaceIds ?? undefined,
        status: query.status, kind: query.kind, search: query.search,
      }, { limit: query.limit, after: query.after });
      const now = s.clock.now();
      return { body: page(result.data.map((k) => presentKey(k, now)), result.hasMore, result.lastId) };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/keys/:id", tag: "keys", summary: "Get a key",
    handler: async ({ params, principal, services: s }) => ({ body: presentKey(await visibleKey(s, principal, params.id!), s.clock.now()) }),
  }),
  defineRoute({
    method: "PATCH", path: "/api/v1/keys/:id", tag: "keys", summary: "Change a key's settings",
    body: updateKeyBody,
    handler: async ({ params, body, principal, actor, services: s }) => {
      const old = await changeableKey(s, principal, params.id!);
      if (old.kind === "admin" && body.scopes) within(adminKeyExcess(principal, body.scopes));
      const next = {
        rateLimits: toRateLimits(body.rate_limits), spendLimit: toSpendLimit(body.spend_limit), allowedModels: body.allowed_models,
        ipAllowlist: body.ip_allowlist, allowedOrigins: body.allowed_origins, expiresAt: toMs(body.expires_at),
      };
      within(limitsExcess(principal, old, next));
      const key = await s.keys.update(params.id!, {
        name: body.name, scopes: body.scopes, allowedModels: body.allowed_models, ipAllowlist: body.ip_allowlist,
        allowedOrigins: body.allowed_origins, rateLimits: toRateLimits(body.rate_limits), spendLimit: toSpendLimit(body.spend_limit),
        expiresAt: toMs(body.expires_at), metadata: body.metadata,
      }, actor);
      return { body: presentKey(key, s.clock.now()) };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/keys/:id/roll", tag: "keys",
    summary: "Issue a replacement with the same settings; the old key works until grace_seconds (default 86400) pass",
    body: z.strictObject({ grace_seconds: z.number().int().min(0).max(30 * 86400).default(86400) }).default({ grace_seconds: 86400 }),
    handler: async ({ params, body, principal, actor, services: s }) => {
      await changeableKey(s, principal, params.id!);
      const { issued, old } = await s.keys.roll(params.id!, body.grace_seconds, actor);
      const now = s.clock.now();
      return { status: 201, body: { ...presentKey(issued.key, now), key: issued.plaintext, previous: presentKey(old, now) } };
    },
  }),
  ...(["revoke", "disable", "enable"] as const).map((action) => defineRoute({
    method: "POST", path: `/api/v1/keys/:id/${action}`, tag: "keys",
    summary: action === "revoke" ? "Revoke a key for good (it stays listed)" : `${action[0]!.toUpperCase()}${action.slice(1)} a key`,
    body: z.strictObject({ reason: z.string().max(500).optional() }).optional(),
    handler: async ({ params, body, principal, actor, services: s }) => {
      await changeableKey(s, principal, params.id!);
      const key = action === "revoke" ? await s.keys.revoke(params.id!, actor, body?.reason) : await s.keys[action](params.id!, actor);
      return { body: presentKey(key, s.clock.now()) };
    },
  })),
  defineRoute({
    method: "POST", path: "/api/v1/keys/lookup", tag: "keys",
    summary: "Which keys these are, by the SHA-256 of their plaintext (the plaintext never leaves the client)",
    body: z.strictObject({ sha256: z.array(z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex SHA-256")).min(1).max(1000) }),
    handler: async ({ body, principal, services: s }) => {
      const now = s.clock.now();
      const data = [];
      for (const sha of body.sha256) {
        const key = await s.store.keys.getByHash(hashFromSha256(sha, s.config.pepper));
        const mine = key && key.orgId === principal.orgId && (!principal.workspaceIds || principal.workspaceIds.includes(key.workspaceId)) ? key : null;
        data.push({ sha256: sha, found: mine !== null, key: mine && { id: mine.id, name: mine.name, status: keyStatus(mine, now), workspace_id: mine.workspaceId, hint: mine.hint, kind: mine.kind } });
      }
      return { body: { data } };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/keys/verify", tag: "verify",
    summary: "Verify a key for your own API: is it valid, for this scope, model, IP and origin?",
    body: z.strictObject({
      key: z.string().min(1).max(200), scope: z.string().max(64).optional(), model: z.string().max(200).optional(),
      ip: z.string().max(64).optional(), origin: z.string().max(300).optional(),
    }),
    handler: async ({ body, services: s }) => {
      // The model is matched as the gateway matches it: resolved in the catalog, allowed by its id or any alias.
      const resolved = body.model !== undefined ? s.catalog?.resolve(body.model) : undefined;
      const modelNames = resolved ? [resolved.id, ...resolved.aliases] : undefined;
      const r = await s.verifier.verify(body.key, { scope: body.scope, model: body.model, modelNames, ip: body.ip, origin: body.origin });
      // An admin key is no key for a customer's API: answered as unknown, never described.
      const valid = r.valid && r.entry.key.kind !== "admin";
      // A refusal says only its code: whoever holds a revoked or foreign key learns nothing about it.
      if (!valid) return { body: { valid: false, code: r.valid ? "NOT_FOUND" : r.code }, authFailed: true };
      const k = r.entry.key;
      return {
        body: {
          valid: true, code: r.code,
          key: {
            id: k.id, name: k.name, kind: k.kind, workspace_id: k.workspaceId, scopes: k.scopes, metadata: k.metadata,
            expires_at: k.expiresAt === null ? null : new Date(k.expiresAt).toISOString(),
          },
        },
      };
    },
  }),
];

