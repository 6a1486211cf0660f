import { tokenCostNano } from "../lib/money.js";
import type { CatalogModel, ModelPrice, Store } from "../store/index.js";
import type { TokenUsage } from "./types.js";

/**
 * The model catalog in memory: names (ids and aliases) to models, and each model's price history.
 * Loaded at start-up and reloaded after every change made through the API or CLI, on this node
 * and (over the invalidation bus) on the others.
 */
export class ModelCatalog {
  private byName = new Map<string, CatalogModel>();
  private all: CatalogModel[] = [];

  /** `onChange` is told of every change made here (main.ts tells the other nodes). */
  constructor(private readonly store: Store, private readonly onChange?: () => void) {}

  /** Seeds the shipped defaults into an empty catalog, then loads it. */
  async load(now = Date.now()): Promise<void> {
    await this.store.models.seedDefaults(now);
    await this.reload();
  }

  /** Reads the catalog again (another node changed it). */
  async reload(): Promise<void> {
    this.set(await this.store.models.listAll());
  }

  /** Takes the catalog as it now stands after a change made on this node, and announces the change. */
  replace(models: CatalogModel[]): void {
    this.set(models);
    this.onChange?.();
  }

  private set(models: CatalogModel[]): void {
    const byName = new Map<string, CatalogModel>();
    for (const m of models) byName.set(m.id, m);
    for (const m of models) for (const a of m.aliases) if (!byName.has(a)) byName.set(a, m);
    this.byName = byName;
    this.all = models;
  }

  /** The model a name (id or alias, with or without Gemini's "models/" prefix) stands for. */
  resolve(name: string): CatalogModel | null {
    return this.byName.get(name) ?? (name.startsWith("models/") ? this.byName.get(name.slice(7)) ?? null : null);
  }

  list(): readonly CatalogModel[] {
    return this.all;
  }
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
