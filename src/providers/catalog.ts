import { tokenCostNano, usdPerMTokToMicro } from "../lib/money.js";
import { DEFAULT_MODELS, type CatalogModel, type ModelFamily, type ModelPrice, type Store } from "../store/index.js";
import { DEFAULT_MODEL_PATTERNS, SHIPPED_FAMILIES, globToRegExp, parseModelPatterns, type ProviderPattern } from "./model-families.js";
import { getProvider } from "./registry.js";
import type { TokenUsage } from "./types.js";

/**
 * How a name was resolved: a catalog entry, the shipped list (exact or family), an imported
 * family, or a provider pattern alone, which carries no price (the organization's rule decides).
 */
export type ModelMatch = "catalog" | "shipped" | "family" | "unpriced";

export interface ResolvedModel extends CatalogModel {
  match: ModelMatch;
}

export interface CatalogOptions {
  /** `glob=provider,…` (LATCHKEY_MODEL_PATTERNS); the default list when absent. */
  patterns?: string | undefined;
  /** Told of every change made here (main.ts tells the other nodes). */
  onChange?: (() => void) | undefined;
}

type CompiledFamily = ModelFamily & { test: RegExp };
const MAX_SYNTHESIZED = 2000;

/**
 * The model catalog in memory, and the one place a model name is resolved (the gateway, the
 * allow-lists and, later, deployments build on `resolve`). Order: the catalog's ids and aliases;
 * the shipped list's exact names; imported families, then shipped ones; then a provider pattern
 * alone (unpriced). Loaded at start-up, reloaded after every change on any node.
 */
export class ModelCatalog {
  private byName = new Map<string, ResolvedModel>();
  private all: ResolvedModel[] = [];
  private families: CompiledFamily[] = [];
  // Names resolved by pattern, kept so a request allocates nothing (and limits memo by identity).
  private synthesized = new Map<string, ResolvedModel | null>();
  private readonly patterns: ProviderPattern[];
  private readonly shipped: Map<string, ResolvedModel>;
  private readonly onChange: (() => void) | undefined;

  constructor(private readonly store: Store, options: CatalogOptions | (() => void) = {}) {
    const o = typeof options === "function" ? { onChange: options } : options;
    this.onChange = o.onChange;
    this.patterns = parseModelPatterns(o.patterns ?? DEFAULT_MODEL_PATTERNS);
    for (const p of this.patterns) if (!getProvider(p.provider)) throw new Error(`model pattern '${p.pattern}': unknown provider '${p.provider}'`);
    this.shipped = shippedModels();
  }

  /** Seeds the shipped defaults into an empty catalog, then loads it. */
  async load(now = Date.now()): Promise<void> {
    await this.store.models.seedDefaults(now);
    await this.reload();
  }

  /** Reads the catalog again (another node changed it). */
  async reload(): Promise<void> {
    const [models, families] = await Promise.all([this.store.models.listAll(), this.store.models.listFamilies()]);
    this.set(models, families);
  }

  /** Takes the catalog as it now stands after a change made on this node, and announces the change. */
  replace(models: CatalogModel[], families?: ModelFamily[]): void {
    this.set(models, families ?? this.families);
    this.onChange?.();
  }

  private set(models: CatalogModel[], imported: readonly ModelFamily[]): void {
    const byName = new Map<string, ResolvedModel>();
    const all = models.map((m): ResolvedModel => ({ ...m, match: "catalog" }));
    for (const m of all) byName.set(m.id, m);
    for (const m of all) for (const a of m.aliases) if (!byName.has(a)) byName.set(a, m);
    this.byName = byName;
    this.all = all;
    this.families = [...imported, ...SHIPPED_FAMILIES].map((f) => ({ ...f, test: globToRegExp(f.pattern) }));
    this.synthesized = new Map();
  }

  /** The model a name (id, alias or pattern match, with or without Gemini's "models/" prefix) stands for. */
  resolve(name: string): ResolvedModel | null {
    const hit = this.byName.get(name);
    if (hit) return hit;
    if (name.startsWith("models/")) return this.resolve(name.slice(7));
    let made = this.synthesized.get(name);
    if (made === undefined) {
      made = this.byPattern(name);
      if (this.synthesized.size >= MAX_SYNTHESIZED) this.synthesized.clear();
      this.synthesized.set(name, made);
    }
    return made;
  }

  private byPattern(name: string): ResolvedModel | null {
    const shipped = this.shipped.get(name);
    if (shipped) return shipped;
    if (name.length > 200 || !/^[A-Za-z0-9._:@-]+$/.test(name)) return null;
    const provider = this.patterns.find((p) => p.test.test(name))?.provider;
    if (!provider) return null;
    const f = this.families.find((x) => x.provider === provider && x.test.test(name));
    const base = { id: name, provider, displayName: name, aliases: [], createdAt: 0, updatedAt: 0 };
    if (f) return { ...base, kind: f.kind, maxOutputTokens: f.maxOutputTokens, contextWindow: f.contextWindow, prices: [{ effectiveAt: 0, ...f.price }], match: "family" };
    // No price known: a generous output bound keeps the reservation an upper bound.
    return { ...base, kind: /embed/.test(name) ? "embedding" : "chat", maxOutputTokens: 128_000, contextWindow: 1_000_000, prices: [], match: "unpriced" };
  }

  /** The catalog's own models (what model lists show). */
  list(): readonly ResolvedModel[] {
    return this.all;
  }
}

function shippedModels(): Map<string, ResolvedModel> {
  const out = new Map<string, ResolvedModel>();
  for (const d of DEFAULT_MODELS) {
    const [input, output, cacheWrite, cacheRead] = d.usd.map((u) => usdPerMTokToMicro(u)) as [number, number, number, number];
    const m: ResolvedModel = {
      id: d.id, provider: d.provider, displayName: d.name, kind: d.kind, aliases: d.aliases, maxOutputTokens: d.maxOutput, contextWindow: d.context,
      createdAt: 0, updatedAt: 0, prices: [{ effectiveAt: 0, input, output, cacheWrite, cacheRead }], match: "shipped",
    };
    for (const n of [d.id, ...d.aliases]) out.set(n, m);
  }
  return out;
}

const FREE: ModelPrice = { effectiveAt: 0, input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };

/** The price in force at `at`: the latest row that took effect at or before it. */
export function priceAt(m: CatalogModel, at: number): ModelPrice {
  let found: ModelPrice | null = null;
  for (const p of m.prices) {
    if (p.effectiveAt <= at) found = p;
    else break;
  }
  return found ?? m.prices[0] ?? FREE;
}

/** Cost in nano-USD, each kind of token at its own price. */
export function usageCostNano(usage: TokenUsage, price: ModelPrice): number {
  return tokenCostNano(usage.input, price.input) + tokenCostNano(usage.output, price.output)
    + tokenCostNano(usage.cacheWrite, price.cacheWrite) + tokenCostNano(usage.cacheRead, price.cacheRead);
}
