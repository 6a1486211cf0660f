import type { Kysely } from "kysely";
import { usdPerMTokToMicro } from "../lib/money.js";
import { inTransaction, type Database } from "./database.js";
import { DEFAULT_MODELS } from "./model-defaults.js";
import type { Tables } from "./schema.js";

export interface ModelRow {
  id: string;
  provider: string;
  display_name: string;
  kind: string;
  aliases: string;
  max_output_tokens: number;
  context_window: number;
  created_at: number;
  updated_at: number;
}

export interface ModelPriceRow {
  model_id: string;
  effective_at: number;
  input_micro: number;
  output_micro: number;
  cache_write_micro: number;
  cache_read_micro: number;
}

export interface ModelFamilyRow {
  pattern: string;
  provider: string;
  kind: string;
  max_output_tokens: number;
  context_window: number;
  input_micro: number;
  output_micro: number;
  cache_write_micro: number;
  cache_read_micro: number;
  position: number;
  updated_at: number;
}

declare module "./schema.js" {
  interface Tables {
    models: ModelRow;
    model_prices: ModelPriceRow;
    model_families: ModelFamilyRow;
  }
}

/** A price for every model a pattern matches (`claude-opus-*`), for models the catalog does not list. */
export interface ModelFamily {
  pattern: string;
  provider: string;
  kind: "chat" | "embedding";
  maxOutputTokens: number;
  contextWindow: number;
  price: Omit<ModelPrice, "effectiveAt">;
}

/** Micro-USD per million tokens for each kind of token. */
export interface ModelPrice {
  effectiveAt: number;
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

export interface CatalogModel {
  id: string;
  provider: string;
  displayName: string;
  kind: "chat" | "embedding";
  aliases: string[];
  maxOutputTokens: number;
  contextWindow: number;
  createdAt: number;
  updatedAt: number;
  /** Every price the model has had, oldest first. */
  prices: ModelPrice[];
}

export type ModelInput = Omit<CatalogModel, "prices" | "createdAt" | "updatedAt">;

/** The model catalog and its price history. */
export class ModelStore {
  constructor(private readonly database: Database) {}

  async listAll(): Promise<CatalogModel[]> {
    const db = this.database.db;
    const [rows, prices] = await Promise.all([
      db.selectFrom("models").selectAll().orderBy("id").execute(),
      db.selectFrom("model_prices").selectAll().orderBy("model_id").orderBy("effective_at").execute(),
    ]);
    const byModel = new Map<string, ModelPrice[]>();
    for (const p of prices) {
      const list = byModel.get(p.model_id) ?? [];
      list.push({ effectiveAt: Number(p.effective_at), input: Number(p.input_micro), output: Number(p.output_micro), cacheWrite: Number(p.cache_write_micro), cacheRead: Number(p.cache_read_micro) });
      byModel.set(p.model_id, list);
    }
    return rows.map((r) => ({
      id: r.id, provider: r.provider, displayName: r.display_name, kind: r.kind === "embedding" ? "embedding" : "chat",
      aliases: JSON.parse(r.aliases) as string[], maxOutputTokens: r.max_output_tokens, contextWindow: r.context_window,
      createdAt: Number(r.created_at), updatedAt: Number(r.updated_at), prices: byModel.get(r.id) ?? [],
    }));
  }

  async upsert(m: ModelInput, now: number, db: Kysely<Tables> = this.database.db): Promise<void> {
    const row = {
      provider: m.provider, display_name: m.displayName, kind: m.kind, aliases: JSON.stringify(m.aliases),
      max_output_tokens: m.maxOutputTokens, context_window: m.contextWindow, updated_at: now,
    };
    await db.insertInto("models").values({ id: m.id, created_at: now, ...row })
      .onConflict((oc) => oc.column("id").doUpdateSet(row)).execute();
  }

  /** Adds a price that takes effect at `price.effectiveAt` (replacing one at that exact instant). */
  async setPrice(modelId: string, price: ModelPrice, db: Kysely<Tables> = this.database.db): Promise<void> {
    const values = { input_micro: price.input, output_micro: price.output, cache_write_micro: price.cacheWrite, cache_read_micro: price.cacheRead };
    await db.insertInto("model_prices").values({ model_id: modelId, effective_at: price.effectiveAt, ...values })
      .onConflict((oc) => oc.columns(["model_id", "effective_at"]).doUpdateSet(values)).execute();
  }

  async delete(modelId: string): Promise<boolean> {
    await this.database.db.deleteFrom("model_prices").where("model_id", "=", modelId).execute();
    const r = await this.database.db.deleteFrom("models").where("id", "=", modelId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Imported family prices, in the order they are tried. */
  async listFamilies(): Promise<ModelFamily[]> {
    const rows = await this.database.db.selectFrom("model_families").selectAll().orderBy("position").orderBy("pattern").execute();
    return rows.map((r) => ({
      pattern: r.pattern, provider: r.provider, kind: r.kind === "embedding" ? "embedding" : "chat", maxOutputTokens: r.max_output_tokens, contextWindow: r.context_window,
      price: { input: Number(r.input_micro), output: Number(r.output_micro), cacheWrite: Number(r.cache_write_micro), cacheRead: Number(r.cache_read_micro) },
    }));
  }

  /** Adds or replaces a family (by pattern); `position` orders the tries. */
  async upsertFamily(f: ModelFamily, position: number, now: number, db: Kysely<Tables> = this.database.db): Promise<void> {
    const row = {
      provider: f.provider, kind: f.kind, max_output_tokens: f.maxOutputTokens, context_window: f.contextWindow, input_micro: f.price.input,
      output_micro: f.price.output, cache_write_micro: f.price.cacheWrite, cache_read_micro: f.price.cacheRead, position, updated_at: now,
    };
    await db.insertInto("model_families").values({ pattern: f.pattern, ...row }).onConflict((oc) => oc.column("pattern").doUpdateSet(row)).execute();
  }

  /** Loads the shipped catalog into an empty table (never overwrites edits); returns how many. */
  async seedDefaults(now: number): Promise<number> {
    const any = await this.database.db.selectFrom("models").select("id").limit(1).executeTakeFirst();
    if (any) return 0;
    await inTransaction(this.database, async (trx) => {
      for (const d of DEFAULT_MODELS) {
        await this.upsert({ id: d.id, provider: d.provider, displayName: d.name, kind: d.kind, aliases: d.aliases, maxOutputTokens: d.maxOutput, contextWindow: d.context }, now, trx);
        const [i, o, w, r] = d.usd.map((u) => usdPerMTokToMicro(u)) as [number, number, number, number];
        await this.setPrice(d.id, { effectiveAt: 0, input: i, output: o, cacheWrite: w, cacheRead: r }, trx);
      }
    });
    return DEFAULT_MODELS.length;
  }
}
