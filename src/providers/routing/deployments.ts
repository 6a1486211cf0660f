import type { CatalogModel, CredentialModel, DeploymentPrice } from "../../store/index.js";
import type { UsableCredential } from "../credential-vault.js";
import { getProvider } from "../registry.js";
import type { CodecDialect } from "../dialects/canonical.js";
import type { Provider } from "../types.js";
import type { DeploymentHealth } from "./health.js";
import { matchesModel } from "./match.js";

/** One way to serve a model: a credential (and so a provider), the model's name there, its rank. */
export interface Deployment {
  credential: UsableCredential;
  provider: Provider;
  /** The model's name upstream: a Bedrock id, an Azure deployment name, or the caller's name. */
  upstreamModel: string;
  priority: number;
  weight: number;
  /** This deployment's own prices, when they differ from the model's. */
  price: DeploymentPrice | null;
  /** The key its health is kept under. */
  key: string;
  /** The API the credential's model entry says it takes (callers of another are translated into it); null: the provider's own. */
  dialect: CodecDialect | null;
}

/**
 * Whether a credential serves a model, and how: its declared models first (ids, aliases,
 * patterns); with none declared, its provider's default patterns (a preset's families); with
 * none of those, every catalog model of its provider.
 */
export function servingEntry(c: UsableCredential, provider: Provider, model: CatalogModel, asCalled: string): CredentialModel | null {
  if (c.models.length > 0) {
    for (const m of c.models) if (matchesModel(m.match, model.id, model.aliases, asCalled)) return m;
    return null;
  }
  const defaults = provider.defaultModels?.(c.settings);
  if (defaults) {
    for (const p of defaults) if (matchesModel(p, model.id, model.aliases, asCalled)) return { match: p };
    return null;
  }
  return c.provider === model.provider ? { match: model.id } : null;
}

/**
 * The deployments of a model for a workspace, in the order to try them: the workspace's own
 * credentials when any serves the model, else the organization's; lower priority first; equal
 * priorities shuffled by weight; resting deployments after the others.
 */
export function deploymentsFor(
  all: readonly UsableCredential[], model: CatalogModel, asCalled: string, workspaceId: string,
  health?: DeploymentHealth, random: () => number = Math.random,
): Deployment[] {
  const own: Deployment[] = [];
  const shared: Deployment[] = [];
  for (const c of all) {
    if (c.workspaceId !== null && c.workspaceId !== workspaceId) continue;
    const provider = getProvider(c.provider);
    if (!provider) continue;
    const entry = servingEntry(c, provider, model, asCalled);
    if (!entry) continue;
    const upstreamModel = entry.upstream ?? asCalled;
    const d: Deployment = {
      credential: c, provider, upstreamModel, priority: entry.priority ?? c.priority, weight: Math.max(1, entry.weight ?? c.weight),
      price: entry.price ?? null, key: `${c.id}\u0000${upstreamModel}`, dialect: entry.dialect ?? null,
    };
    (c.workspaceId === null ? shared : own).push(d);
  }
  const pool = own.length ? own : shared;
  if (pool.length <= 1) return pool;
  // Weighted shuffle (Efraimidis–Spirakis, key u^(1/w)) inside each priority; resting ones last.
  const ranked = pool.map((d) => ({ d, rest: health?.resting(d.key) ? 1 : 0, k: Math.pow(random(), 1 / d.weight) }));
  ranked.sort((a, b) => a.rest - b.rest || a.d.priority - b.d.priority || b.k - a.k);
  return ranked.map((x) => x.d);
}
