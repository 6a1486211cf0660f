import type { VerifiedKey } from "../keys/index.js";
import {
  deploymentsFor, getProvider, simulator, TranslationError, type CredentialLink, type Deployment, type Provider, type UpstreamRequest, type UpstreamTarget,
  type UsableCredential,
} from "../providers/index.js";
import type { CatalogModel, ModelPrice } from "../store/index.js";
import type { GatewayCore } from "./core.js";
import { embedRequestCount, GEMINI_EMBED_BATCH, splitGeminiEmbeds } from "./embed-split.js";
import type { Form, RequestForms } from "./forms.js";
import type { Candidate } from "./plan.js";

/** Why no upstream could be tried: none serves the model, or none of those that do speaks the caller's API (their providers). */
export type NoRoute = "no_credential" | { mismatch: readonly string[] };

// A token still being minted is waited for this long on a credential's first request, no longer.
const FIRST_TOKEN_WAIT_MS = 5_000;

type Found = Candidate[] | NoRoute;

/**
 * The upstreams to try for a request, in order: the model's deployments (DESIGN.md, Providers
 * and routing) turned into addressed, authenticated targets, each in its own dialect: the
 * caller's bytes where the deployment speaks the caller's API, else their translation, made for
 * the first candidate now and for a fallback only when its turn comes. Without a promise when the
 * credentials are cached, no token is being minted and nothing waits on the reasoning keep.
 * Throws TranslationError when no deployment's API can take the request (the caller's mistake,
 * answered 400 naming the field).
 */
export function upstreams(core: GatewayCore, entry: VerifiedKey, model: CatalogModel, toSimulator: boolean, forms: RequestForms): Found | Promise<Found> {
  if (toSimulator) return builtInSimulator(core, forms, model.provider);
  const orgId = entry.key.orgId;
  const all = core.vault.peek(orgId);
  if (all) return fromCredentials(core, all, entry, model, forms);
  return core.vault.forOrg(orgId).then((list) => fromCredentials(core, list, entry, model, forms));
}

function fromCredentials(core: GatewayCore, all: UsableCredential[], entry: VerifiedKey, model: CatalogModel, forms: RequestForms): Found | Promise<Found> {
  const deployments = deploymentsFor(all, model, forms.own.request.model, entry.key.workspaceId, core.health);
  if (deployments.length === 0) {
    if (model.provider === "simulator") return builtInSimulator(core, forms, model.provider);
    // No credential would help when the model's own provider cannot take this request at all.
    const own = getProvider(model.provider);
    return own && !reaches(own, forms) ? { mismatch: [own.id] } : "no_credential";
  }
  let waiting: Promise<void>[] | null = null;
  for (const d of deployments) {
    const link = linkOf(core, d);
    const ready = link?.ready();
    if (ready) (waiting ??= []).push(ready.catch(() => undefined));
  }
  if (!waiting) return toCandidates(core, deployments, forms);
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, FIRST_TOKEN_WAIT_MS).unref());
  return Promise.race([Promise.all(waiting), timeout]).then(() => toCandidates(core, deployments, forms));
}

function linkOf(core: GatewayCore, d: Deployment) {
  try {
    return core.links.get(d.credential, d.provider);
  } catch (err) {
    core.logger.warn({ credential: d.credential.id, provider: d.provider.id, err: (err as Error).message }, "credential cannot be used");
    return null;
  }
}

function toCandidates(core: GatewayCore, deployments: Deployment[], forms: RequestForms): Found | Promise<Found> {
  const out: Candidate[] = [];
  let refused: TranslationError | null = null;
  for (const d of deployments) {
    const link = linkOf(core, d);
    if (d.provider.connect && !link) continue;
    const c: Candidate = {
      target: null, pool: null, payload: forms.own.payload, translation: null, strip: false, notice: null, later: null,
      credentialId: d.credential.id, provider: d.provider.id, healthKey: d.key, link,
      price: d.price ? { effectiveAt: 0, ...d.price } satisfies ModelPrice : null,
    };
    const caller = forms.caller;
    // A model entry that names the API its host takes: callers of another generation API are translated into it.
    const native = !(d.dialect && caller && caller !== d.dialect);
    try {
      if (native && address(core, c, d, link, forms.own)) {
        out.push(c);
        continue;
      }
    } catch (err) {
      // This deployment's API cannot take the request (Bedrock's Converse); another may.
      if (!(err instanceof TranslationError)) throw err;
      refused ??= err;
      continue;
    }
    const dialect = d.dialect ?? d.provider.codec?.dialect;
    if (!dialect || !forms.translatable(dialect)) continue;
    c.later = { deployment: d, dialect };
    out.push(c);
  }
  return readyFirst(core, out, forms, refused, deployments);
}

/**
 * The first candidate is made ready to send (translated if it must be); one whose API refuses the
 * request is dropped for the next. The others wait for their turn (`prepare`).
 */
function readyFirst(core: GatewayCore, list: Candidate[], forms: RequestForms, refused: TranslationError | null, deployments: readonly Deployment[]): Found | Promise<Found> {
  while (list.length > 0) {
    let made: void | Promise<void>;
    try {
      made = prepare(core, list[0]!, forms);
    } catch (err) {
      if (!(err instanceof TranslationError)) throw err;
      refused ??= err;
      list.shift();
      continue;
    }
    if (!made) return list;
    return made.then(() => list, (err: unknown) => {
      if (!(err instanceof TranslationError)) throw err;
      list.shift();
      return readyFirst(core, list, forms, refused ?? err, deployments);
    });
  }
  if (refused) throw refused;
  return { mismatch: [...new Set(deployments.map((d) => d.provider.id))] };
}

/**
 * Makes a waiting candidate ready: the request translated into its deployment's dialect and
 * addressed. Nothing when it is ready already; a promise when the translation waits on the
 * reasoning keep. Throws (or rejects with) TranslationError when its API cannot take the request.
 */
export function prepare(core: GatewayCore, c: Candidate, forms: RequestForms): void | Promise<void> {
  const later = c.later;
  if (!later) return;
  const d = later.deployment;
  const form = forms.translated(later.dialect, d.provider.id);
  if (form instanceof Promise) return form.then((f) => addressTranslated(core, c, f));
  addressTranslated(core, c, form);
}

function addressTranslated(core: GatewayCore, c: Candidate, form: Form): void {
  const d = c.later!.deployment;
  if (!address(core, c, d, c.link, form)) {
    throw new TranslationError("model", `The model is served by ${d.provider.id} through an API that cannot take this request; call it through its own endpoint.`);
  }
  c.later = null;
}

/** Addresses a candidate with the request in `form`; false when the deployment's provider cannot take it. */
function address(core: GatewayCore, c: Candidate, d: Deployment, link: CredentialLink | null, form: Form): boolean {
  const r = form.request;
  const cred = d.credential;
  const req = d.upstreamModel === r.model ? r : { ...r, model: d.upstreamModel };
  const target = d.provider.target(req, cred.baseUrl ?? d.provider.baseUrlFor?.(cred.settings) ?? d.provider.defaultBaseUrl, cred.secret, link ?? undefined);
  if (!target) return false;
  if (req !== r) renameInBody(target, r, d.upstreamModel);
  fill(core, c, target, form);
  return true;
}

function fill(core: GatewayCore, c: Candidate, target: UpstreamTarget, form: Form): void {
  const pool = core.pool(target.origin);
  // More texts than Gemini takes in one call: several calls, one answer.
  const split = form.translation?.embed && embedRequestCount(form.request.body) > GEMINI_EMBED_BATCH;
  c.target = target;
  c.pool = split ? splitGeminiEmbeds(pool) : pool;
  c.payload = form.payload;
  c.translation = form.translation;
  c.strip = form.strip;
  c.notice = form.notice;
}

/** The model's name upstream differs from the caller's: the body says the upstream's (Gemini's is in the path). */
function renameInBody(target: UpstreamTarget, r: UpstreamRequest, upstreamModel: string): void {
  if (target.body || r.dialect === "gemini" || !r.body || typeof r.body.model !== "string") return;
  target.body = Buffer.from(JSON.stringify({ ...r.body, model: upstreamModel }));
}

function builtInSimulator(core: GatewayCore, forms: RequestForms, providerId: string): Found | Promise<Found> {
  const url = core.simulatorUrl();
  return typeof url === "string" ? simulatorCandidate(core, forms, url, providerId) : url.then((base) => simulatorCandidate(core, forms, base, providerId));
}

/**
 * The built-in simulator behind the model's own provider's transport: its paths, its dialect
 * (the request translated as a live key's would be). A provider that signs or mints tokens per
 * credential (the clouds) is played by the simulator's own transport, which mirrors the caller's paths.
 */
function simulatorCandidate(core: GatewayCore, forms: RequestForms, base: string, providerId: string): Found | Promise<Found> {
  const own = getProvider(providerId);
  const r = forms.own.request;
  let form: Form | Promise<Form> = forms.own;
  if (!own || !speaks(own, r)) {
    const dialect = own?.codec?.dialect;
    if (!own || !dialect || !forms.translatable(dialect)) return { mismatch: [providerId] };
    form = forms.translated(dialect, own.id);
  }
  const transport = own && !own.connect ? own : simulator;
  return form instanceof Promise ? form.then((f) => simulatorAt(core, transport, base, f)) : simulatorAt(core, transport, base, form);
}

function simulatorAt(core: GatewayCore, transport: Provider, base: string, f: Form): Candidate[] {
  const c: Candidate = {
    target: null, pool: null, payload: f.payload, translation: null, strip: false, notice: null, later: null,
    credentialId: "simulator", provider: "simulator", healthKey: null, price: null, link: null,
  };
  fill(core, c, transport.target(f.request, base, "latchkey-built-in")!, f);
  return [c];
}

/** Whether a provider takes the request as the caller sent it, or translated into its dialect. */
function reaches(p: Provider, forms: RequestForms): boolean {
  const dialect = p.codec?.dialect;
  return speaks(p, forms.own.request) || (dialect !== undefined && forms.translatable(dialect));
}

/** Whether a provider takes the request as the caller sent it (one with per-credential state answers by its dialects). */
function speaks(p: Provider, r: UpstreamRequest): boolean {
  return p.connect ? p.dialects.includes(r.dialect) : p.target(r, p.defaultBaseUrl, "-") !== null;
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
