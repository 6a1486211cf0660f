import { z } from "zod";
import { NotFoundError, ValidationError } from "../errors/index.js";
import { newId, toIso } from "../lib/index.js";
import { BEDROCK_APIS, codecDialectsOf, getProvider, PRESET_NAMES, PROVIDER_IDS, probeCredential, type CodecDialect, type CredentialVault } from "../providers/index.js";
import type { MasterKeys } from "../lib/envelope.js";
import type { CredentialModel, ProviderCredential } from "../store/index.js";
import { audited } from "./audit.js";
import { page } from "./present.js";
import { defineRoute, type RouteDef } from "./route.js";
import type { AdminServices } from "./services.js";

declare module "./services.js" {
  interface AdminServices {
    /** Seals (the first) and unwraps (any) provider credentials; only credential routes use it. */
    masterKey: MasterKeys;
    /** The gateway's decrypted-credential cache, invalidated after every change. */
    credentialVault?: CredentialVault;
  }
}

// No user or password in the URL: it is shown in lists and written to the audit log.
// zod runs the refinement even after the URL check failed: a non-URL is that check's to report.
const baseUrlSchema = z.url({ protocol: /^https?$/ }).refine((u) => !URL.canParse(u) || (({ username, password }) => !username && !password)(new URL(u)), "must not carry a user name or password; put the secret in `secret`");
const SETTING_NAMES = ["region", "project", "resource", "api_version", "preset", "authority_host", "api"] as const;
const settingValue = z.string().trim().min(1).max(200);
const modelsSchema = z.array(z.union([
  z.string().trim().min(1).max(200),
  z.strictObject({
    model: z.string().trim().min(1).max(200),
    upstream: z.string().trim().min(1).max(300).optional(),
    priority: z.number().int().min(0).max(1000).optional(),
    weight: z.number().int().min(1).max(1000).optional(),
    prices: z.strictObject({ input_usd: z.string(), output_usd: z.string(), cache_write_usd: z.string().optional(), cache_read_usd: z.string().optional() }).optional(),
    /** The API the host takes for this model when it is not the provider's usual one (`chat`: Chat Completions only); callers of another are translated into it. */
    // Checked against the provider in toCredentialModels, so a wrong name is refused by its field, not as the whole entry.
    dialect: z.string().trim().min(1).max(40).optional(),
  }),
])).max(200);

const createBody = z.strictObject({
  provider: z.enum(PROVIDER_IDS),
  name: z.string().trim().min(1).max(200),
  secret: z.string().min(8).max(4096),
  base_url: baseUrlSchema.nullable().optional(),
  workspace_id: z.string().min(1).max(64).nullable().optional(),
  weight: z.number().int().min(1).max(1000).optional(),
  /** Lower goes first among the deployments of a model. */
  priority: z.number().int().min(0).max(1000).optional(),
  /**
   * Provider settings: region (Bedrock, Vertex AI), project (Vertex AI), resource and api_version (Azure), preset (OpenAI-compatible),
   * api (Bedrock: `converse` sends Anthropic models through Converse too; other families always go through it).
   */
  settings: z.partialRecord(z.enum(SETTING_NAMES), settingValue).optional(),
  /** The models it serves: ids, aliases or `*` patterns, with their upstream names, priorities, weights and prices. */
  models: modelsSchema.optional(),
});

/** What a credential may change without its secret being given again; its provider and secret stay. */
const patchBody = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  base_url: baseUrlSchema.nullable().optional(),
  weight: z.number().int().min(1).max(1000).optional(),
  priority: z.number().int().min(0).max(1000).optional(),
  /** Merged into the credential's settings; a null removes one. */
  settings: z.partialRecord(z.enum(SETTING_NAMES), settingValue.nullable()).optional(),
  /** Replaces the models it serves. */
  models: modelsSchema.optional(),
});

/** Why a URL is refused: the rule and the setting, never what the name resolved to. */
export const REFUSED_ADDRESS = "points at a loopback, private, link-local or reserved address, which Latchkey does not connect to; "
  + "an operator can allow a range with LATCHKEY_ALLOW_PRIVATE_UPSTREAMS";

/** Micro-USD per million tokens from a decimal USD string ("3", "0.25"). */
function microPerMillion(usd: string | undefined): number {
  if (usd === undefined) return 0;
  if (!/^\d{1,6}(\.\d{1,6})?$/.test(usd)) throw new ValidationError([{ field: "models.prices", message: `'${usd}' is not a price in USD per million tokens` }]);
  const [whole, frac = ""] = usd.split(".");
  return Number(whole) * 1_000_000 + Number(frac.padEnd(6, "0"));
}

type ModelsInput = z.infer<typeof modelsSchema> | undefined;

function toCredentialModels(provider: string, models: ModelsInput): CredentialModel[] {
  const p = getProvider(provider);
  const speaks = p ? codecDialectsOf(p) : [];
  const problems = (models ?? []).flatMap((m, i) => typeof m !== "string" && m.dialect !== undefined && !(speaks as string[]).includes(m.dialect)
    ? [{ field: `models.${i}.dialect`, message: `${provider} credentials take ${speaks.join(", ") || "no named API"}, not '${m.dialect}'` }] : []);
  if (problems.length) throw new ValidationError(problems);
  return (models ?? []).map((m) => typeof m === "string" ? { match: m } : {
    match: m.model, upstream: m.upstream, priority: m.priority, weight: m.weight, dialect: m.dialect as CodecDialect | undefined,
    price: m.prices ? { input: microPerMillion(m.prices.input_usd), output: microPerMillion(m.prices.output_usd), cacheWrite: microPerMillion(m.prices.cache_write_usd), cacheRead: microPerMillion(m.prices.cache_read_usd) } : undefined,
  });
}

/** Names every setting the provider needs and does not have, and a preset nobody knows. */
function checkSettings(provider: string, settings: Record<string, string>): void {
  const p = getProvider(provider);
  const missing = (p?.requiredSettings ?? []).filter((k) => !settings[k]);
  const problems = missing.map((k) => ({ field: `settings.${k}`, message: `${provider} credentials need ${k}` }));
  if (settings.preset !== undefined && !PRESET_NAMES.includes(settings.preset)) problems.push({ field: "settings.preset", message: `one of ${PRESET_NAMES.join(", ")}` });
  if (settings.api !== undefined && (provider !== "bedrock" || !(BEDROCK_APIS as readonly string[]).includes(settings.api))) {
    problems.push({ field: "settings.api", message: provider === "bedrock" ? `one of ${BEDROCK_APIS.join(", ")}` : "only Bedrock credentials choose an API" });
  }
  if (problems.length) throw new ValidationError(problems);
}

/** A credential as the API shows it: never the secret, only its hint. */
/**
 * The token endpoints a credential names besides its base URL: Entra ID's `authority_host` and a
 * Vertex service-account key's `token_uri`. Google's and Microsoft's libraries make those requests,
 * not the pinned connector, so they are checked here when given, as a base URL is.
 */
async function checkTokenEndpoints(s: AdminServices, settings: Record<string, string>, vertexKey?: string): Promise<void> {
  if (settings.authority_host && await s.outbound.policy.refusesUrl(settings.authority_host)) {
    throw new ValidationError([{ field: "settings.authority_host", message: REFUSED_ADDRESS }]);
  }
  let tokenUri: unknown;
  try {
    tokenUri = vertexKey ? (JSON.parse(vertexKey) as { token_uri?: unknown }).token_uri : undefined;
  } catch {
    return; // not JSON: the provider's own check names what is wrong with the key
  }
  if (typeof tokenUri === "string" && await s.outbound.policy.refusesUrl(tokenUri)) {
    throw new ValidationError([{ field: "secret", message: `its token_uri ${REFUSED_ADDRESS}` }]);
  }
}

function presentCredential(c: ProviderCredential) {
  return {
    id: c.id, object: "credential", provider: c.provider, name: c.name, hint: c.hint, base_url: c.baseUrl,
    workspace_id: c.workspaceId, weight: c.weight, priority: c.priority, settings: c.settings,
    models: c.models.map((m) => ({
      model: m.match, upstream: m.upstream ?? null, priority: m.priority ?? null, weight: m.weight ?? null, dialect: m.dialect ?? null,
      prices: m.price ? { input_usd: String(m.price.input / 1e6), output_usd: String(m.price.output / 1e6), cache_write_usd: String(m.price.cacheWrite / 1e6), cache_read_usd: String(m.price.cacheRead / 1e6) } : null,
    })),
    created_at: toIso(c.createdAt), created_by: c.createdBy,
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
      const settings = Object.fromEntries(Object.entries(body.settings ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"));
      // The base URL, when given, replaces what the settings would build (region, resource).
      if (!body.base_url) checkSettings(body.provider, settings);
      else if (settings.preset !== undefined) checkSettings("openai-compatible", { preset: settings.preset });
      if (body.base_url && settings.api !== undefined) checkSettings(body.provider, { ...settings, region: settings.region ?? "-" });
      if (body.base_url && await s.outbound.policy.refusesUrl(body.base_url)) throw new ValidationError([{ field: "base_url", message: REFUSED_ADDRESS }]);
      await checkTokenEndpoints(s, settings, body.provider === "vertex" ? body.secret : undefined);
      const models = toCredentialModels(body.provider, body.models);
      const now = s.clock.now();
      const id = newId("cred", now);
      const created = await audited(s, actor, "credential.created", id, { provider: body.provider, name: body.name, base_url: body.base_url ?? null, workspace_id: body.workspace_id ?? null, settings, models: models.map((m) => m.match) }, (trx) =>
        s.store.credentials.insert({
          id, orgId: principal.orgId, workspaceId: body.workspace_id ?? null, provider: body.provider, name: body.name, secret: body.secret,
          baseUrl: body.base_url ?? null, weight: body.weight ?? 1, priority: body.priority ?? 0, settings, models, createdAt: now, createdBy: actor.id,
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
    method: "PATCH", path: "/api/v1/credentials/:id", tag: "credentials",
    summary: "Change a credential's name, base URL, weight, priority, settings or models; its secret and provider stay as they are",
    body: patchBody,
    handler: async ({ params, body, principal, actor, services: s }) => {
      const c = await ownCredential(s, principal.orgId, params.id!);
      const settings = { ...c.settings };
      for (const [k, v] of Object.entries(body.settings ?? {})) {
        if (v === null || v === undefined) delete settings[k];
        else settings[k] = v;
      }
      const baseUrl = body.base_url === undefined ? c.baseUrl : body.base_url;
      if (!baseUrl) checkSettings(c.provider, settings);
      else if (settings.preset !== undefined) checkSettings("openai-compatible", { preset: settings.preset });
      if (baseUrl && settings.api !== undefined) checkSettings(c.provider, { ...settings, region: settings.region ?? "-" });
      if (body.base_url && await s.outbound.policy.refusesUrl(body.base_url)) throw new ValidationError([{ field: "base_url", message: REFUSED_ADDRESS }]);
      await checkTokenEndpoints(s, settings);
      const models = body.models === undefined ? undefined : toCredentialModels(c.provider, body.models);
      const patch = {
        name: body.name, baseUrl: body.base_url, weight: body.weight, priority: body.priority,
        settings: body.settings === undefined ? undefined : settings, models,
      };
      const changed = (["name", "base_url", "weight", "priority", "settings", "models"] as const).filter((k) => body[k] !== undefined);
      // What changed, as it now reads: never the secret, which a PATCH cannot carry.
      const detail = {
        provider: c.provider, changed, ...(body.name !== undefined ? { name: body.name } : {}), ...(body.base_url !== undefined ? { base_url: body.base_url } : {}),
        ...(body.weight !== undefined ? { weight: body.weight } : {}), ...(body.priority !== undefined ? { priority: body.priority } : {}),
        ...(body.settings !== undefined ? { settings } : {}), ...(models ? { models: models.map((m) => m.match) } : {}),
      };
      const updated = await audited(s, actor, "credential.updated", c.id, detail, (trx) => s.store.credentials.update(c.id, patch, trx));
      if (!updated) throw new NotFoundError("credential");
      s.credentialVault?.invalidate();
      return { body: presentCredential(updated) };
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
      const r = await probeCredential(c.provider, c.baseUrl, secret, 10_000, c.settings, s.outbound.agent);
      return { body: { id: c.id, ok: r.ok, status: r.status, latency_ms: r.latencyMs, message: r.message } };
    },
  }),
];
