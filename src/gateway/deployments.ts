import type { VerifiedKey } from "../keys/index.js";
import { deploymentsFor, getProvider, simulator, TranslationError, type Deployment, type UpstreamRequest, type UpstreamTarget, type UsableCredential } from "../providers/index.js";
import type { CatalogModel, ModelPrice } from "../store/index.js";
import type { GatewayCore } from "./core.js";
import type { Candidate } from "./plan.js";

/** Why no upstream could be tried: none serves the model, or none speaks the caller's API. */
export type NoRoute = "no_credential" | "dialect_mismatch";

// A token still being minted is waited for this long on a credential's first request, no longer.
const FIRST_TOKEN_WAIT_MS = 5_000;

/**
 * The upstreams to try for a request, in order: the model's deployments (DESIGN.md, Providers
 * and routing) turned into addressed, authenticated targets. Without a promise when the
 * credentials are cached and no token is being minted. Throws TranslationError when the only
 * deployments' APIs cannot take the request (the caller's mistake, answered 400 naming the field).
 */
export function upstreams(core: GatewayCore, entry: VerifiedKey, model: CatalogModel, toSimulator: boolean, r: UpstreamRequest): Candidate[] | NoRoute | Promise<Candidate[] | NoRoute> {
  if (toSimulator) return builtInSimulator(core, r, model.provider);
  const orgId = entry.key.orgId;
  const all = core.vault.peek(orgId);
  if (all) return fromCredentials(core, all, entry, model, r);
  return core.vault.forOrg(orgId).then((list) => fromCredentials(core, list, entry, model, r));
}

function fromCredentials(core: GatewayCore, all: UsableCredential[], entry: VerifiedKey, model: CatalogModel, r: UpstreamRequest): Candidate[] | NoRoute | Promise<Candidate[] | NoRoute> {
  const deployments = deploymentsFor(all, model, r.model, entry.key.workspaceId, core.health);
  if (deployments.length === 0) return model.provider === "simulator" ? builtInSimulator(core, r, model.provider) : "no_credential";
  let waiting: Promise<void>[] | null = null;
  for (const d of deployments) {
    const link = linkOf(core, d);
    const ready = link?.ready();
    if (ready) (waiting ??= []).push(ready.catch(() => undefined));
  }
  if (!waiting) return toCandidates(core, deployments, model, r);
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, FIRST_TOKEN_WAIT_MS).unref());
  return Promise.race([Promise.all(waiting), timeout]).then(() => toCandidates(core, deployments, model, r));
}

function linkOf(core: GatewayCore, d: Deployment) {
  try {
    return core.links.get(d.credential, d.provider);
  } catch (err) {
    core.logger.warn({ credential: d.credential.id, provider: d.provider.id, err: (err as Error).message }, "credential cannot be used");
    return null;
  }
}

function toCandidates(core: GatewayCore, deployments: Deployment[], model: CatalogModel, r: UpstreamRequest): Candidate[] | NoRoute {
  const out: Candidate[] = [];
  let refused: TranslationError | null = null;
  for (const d of deployments) {
    const link = linkOf(core, d);
    if (d.provider.connect && !link) continue;
    const c = d.credential;
    const req = d.upstreamModel === r.model ? r : { ...r, model: d.upstreamModel };
    let target: UpstreamTarget | null;
    try {
      target = d.provider.target(req, c.baseUrl ?? d.provider.baseUrlFor?.(c.settings) ?? d.provider.defaultBaseUrl, c.secret, link ?? undefined);
    } catch (err) {
      // This deployment's API cannot take the request (Bedrock's Converse); another may.
      if (!(err instanceof TranslationError)) throw err;
      refused ??= err;
      continue;
    }
    if (!target) continue;
    if (req !== r) renameInBody(target, r, d.upstreamModel);
    out.push({
      target, pool: core.pool(target.origin), credentialId: c.id, provider: d.provider.id, healthKey: d.key, link,
      price: d.price ? { effectiveAt: 0, ...d.price } satisfies ModelPrice : null,
    });
  }
  if (out.length === 0 && refused) throw refused;
  return out.length ? out : "dialect_mismatch";
}

/** The model's name upstream differs from the caller's: the body says the upstream's (Gemini's is in the path). */
function renameInBody(target: UpstreamTarget, r: UpstreamRequest, upstreamModel: string): void {
  if (target.body || r.dialect === "gemini" || !r.body || typeof r.body.model !== "string") return;
  target.body = Buffer.from(JSON.stringify({ ...r.body, model: upstreamModel }));
}

function builtInSimulator(core: GatewayCore, r: UpstreamRequest, providerId: string): Candidate[] | Promise<Candidate[]> {
  const url = core.simulatorUrl();
  return typeof url === "string" ? simulatorCandidate(core, r, url, providerId) : url.then((base) => simulatorCandidate(core, r, base, providerId));
}

/**
 * The built-in simulator behind the model's own provider's transport: its paths, its dialect. A
 * provider that signs or mints tokens per credential (the clouds) is played by the simulator's
 * own transport, which mirrors the caller's paths.
 */
function simulatorCandidate(core: GatewayCore, r: UpstreamRequest, base: string, providerId: string): Candidate[] {
  const own = getProvider(providerId);
  const target = (own && !own.connect ? own : simulator).target(r, base, "latchkey-built-in")!;
  return [{ target, pool: core.pool(target.origin), credentialId: "simulator", provider: "simulator", healthKey: null, price: null, link: null }];
}

/** The dearest price among the model's and its deployments' own: what a reservation must cover. */
export function highestPrice(base: ModelPrice, candidates: readonly Candidate[]): ModelPrice {
  let out = base;
  for (const c of candidates) {
    const p = c.price;
    if (!p) continue;
    out = {
      effectiveAt: out.effectiveAt, input: Math.max(out.input, p.input), output: Math.max(out.output, p.output),
      cacheWrite: Math.max(out.cacheWrite, p.cacheWrite), cacheRead: Math.max(out.cacheRead, p.cacheRead),
    };
  }
  return out;
}
