import { z } from "zod";
import { AppError, NotFoundError } from "../errors/index.js";
import { microToUsdPerMTok, toIso } from "../lib/index.js";
import { PROVIDER_IDS, priceAt, type ModelCatalog } from "../providers/index.js";
import type { CatalogModel, ModelPrice } from "../store/index.js";
import { audited } from "./audit.js";
import { page } from "./present.js";
import { defineRoute, type RouteDef } from "./route.js";
import { usdAmount } from "./schemas.js";
import type { AdminServices } from "./services.js";

declare module "./services.js" {
  interface AdminServices {
    /** The model catalog the gateway prices with; reloaded after every change. */
    catalog?: ModelCatalog;
  }
}

/** USD per million tokens, kept in micro-USD: parsed like every USD amount (nano-USD), then a thousandth of it. */
const usdPerMTok = usdAmount.transform((nano) => Math.round(nano / 1000));

export const pricing = z.strictObject({
  input_usd_per_mtok: usdPerMTok,
  output_usd_per_mtok: usdPerMTok,
  cache_write_usd_per_mtok: usdPerMTok.optional(),
  cache_read_usd_per_mtok: usdPerMTok.optional(),
  /** When the price takes effect (default now); earlier usage keeps its price. */
  effective_at: z.iso.datetime({ offset: true }).optional(),
});

export const modelId = z.string().min(1).max(200).regex(/^[A-Za-z0-9._:/@-]+$/);
export const fields = {
  provider: z.enum(PROVIDER_IDS),
  display_name: z.string().trim().min(1).max(200),
  kind: z.enum(["chat", "embedding"]),
  aliases: z.array(modelId).max(50),
  max_output_tokens: z.number().int().min(0).max(10_000_000),
  context_window: z.number().int().min(0).max(100_000_000),
};
const createBody = z.strictObject({
  id: modelId, ...fields, display_name: fields.display_name.optional(), kind: fields.kind.default("chat"), aliases: fields.aliases.default([]),
  context_window: fields.context_window.default(128_000), pricing,
});
const updateBody = z.strictObject({
  provider: fields.provider.optional(), display_name: fields.display_name.optional(), kind: fields.kind.optional(), aliases: fields.aliases.optional(),
  max_output_tokens: fields.max_output_tokens.optional(), context_window: fields.context_window.optional(), pricing: pricing.optional(),
});

function presentPrice(p: ModelPrice) {
  return {
    effective_at: toIso(p.effectiveAt), input_usd_per_mtok: microToUsdPerMTok(p.input), output_usd_per_mtok: microToUsdPerMTok(p.output),
    cache_write_usd_per_mtok: microToUsdPerMTok(p.cacheWrite), cache_read_usd_per_mtok: microToUsdPerMTok(p.cacheRead),
    input_micro_usd_per_mtok: p.input, output_micro_usd_per_mtok: p.output, cache_write_micro_usd_per_mtok: p.cacheWrite, cache_read_micro_usd_per_mtok: p.cacheRead,
  };
}

function presentModel(m: CatalogModel, now: number) {
  return {
    id: m.id, object: "model", provider: m.provider, display_name: m.displayName, kind: m.kind, aliases: m.aliases,
    max_output_tokens: m.maxOutputTokens, context_window: m.contextWindow, pricing: presentPrice(priceAt(m, now)),
    price_history: m.prices.map(presentPrice), updated_at: toIso(m.updatedAt),
  };
}

export function toPrice(p: z.infer<typeof pricing>, now: number): ModelPrice {
  return {
    effectiveAt: p.effective_at ? Date.parse(p.effective_at) : now, input: p.input_usd_per_mtok, output: p.output_usd_per_mtok,
    cacheWrite: p.cache_write_usd_per_mtok ?? 0, cacheRead: p.cache_read_usd_per_mtok ?? 0,
  };
}

export async function reload(s: AdminServices): Promise<CatalogModel[]> {
  const [all, families] = await Promise.all([s.store.models.listAll(), s.store.models.listFamilies()]);
  s.catalog?.replace(all, families);
  return all;
}

/** Refuses names already taken by another model (or repeated in the request). */
export function refuseClash(existing: CatalogModel[], self: string | null, names: string[]): void {
  const taken = new Set(existing.filter((m) => m.id !== self).flatMap((m) => [m.id, ...m.aliases]));
  const seen = new Set<string>();
  for (const n of names) {
    if (taken.has(n) || seen.has(n)) throw new AppError("conflict", `the name '${n}' is already in the catalog`);
    seen.add(n);
  }
}

async function findModel(s: AdminServices, id: string): Promise<CatalogModel> {
  const all = await s.store.models.listAll();
  const m = all.find((x) => x.id === id) ?? all.find((x) => x.aliases.includes(id));
  if (!m) throw new NotFoundError("model");
  return m;
}

export const modelRoutes: RouteDef[] = [
  defineRoute({
    method: "GET", path: "/api/v1/models", tag: "models", summary: "The model catalog with current prices and price history",
    handler: async ({ services: s }) => {
      const all = await s.store.models.listAll();
      return { body: page(all.map((m) => presentModel(m, s.clock.now())), false, all.at(-1)?.id ?? null) };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/models/:id", tag: "models", summary: "One model (by id or alias)",
    handler: async ({ params, services: s }) => ({ body: presentModel(await findModel(s, params.id!), s.clock.now()) }),
  }),
  defineRoute({
    method: "POST", path: "/api/v1/models", tag: "models", summary: "Add a model to the catalog",
    body: createBody,
    handler: async ({ body, actor, services: s }) => {
      const now = s.clock.now();
      refuseClash(await s.store.models.listAll(), null, [body.id, ...body.aliases]);
      await audited(s, actor, "model.created", body.id, { provider: body.provider, pricing: body.pricing }, async (trx) => {
        await s.store.models.upsert({ id: body.id, provider: body.provider, displayName: body.display_name ?? body.id, kind: body.kind, aliases: body.aliases, maxOutputTokens: body.max_output_tokens, contextWindow: body.context_window }, now, trx);
        // A new model's first price holds from the start of time unless a date is given.
        await s.store.models.setPrice(body.id, toPrice(body.pricing, 0), trx);
      });
      const all = await reload(s);
      return { status: 201, body: presentModel(all.find((m) => m.id === body.id)!, now) };
    },
  }),
  defineRoute({
    method: "PATCH", path: "/api/v1/models/:id", tag: "models", summary: "Change a model; a new price takes effect at `pricing.effective_at` (default now)",
    body: updateBody,
    handler: async ({ params, body, actor, services: s }) => {
      const now = s.clock.now();
      const m = await findModel(s, params.id!);
      if (body.aliases) refuseClash(await s.store.models.listAll(), m.id, [m.id, ...body.aliases]);
      await audited(s, actor, "model.updated", m.id, body as Record<string, unknown>, async (trx) => {
        await s.store.models.upsert({
          id: m.id, provider: body.provider ?? m.provider, displayName: body.display_name ?? m.displayName, kind: body.kind ?? m.kind,
          aliases: body.aliases ?? m.aliases, maxOutputTokens: body.max_output_tokens ?? m.maxOutputTokens, contextWindow: body.context_window ?? m.contextWindow,
        }, now, trx);
        if (body.pricing) {
          const price = toPrice(body.pricing, now);
          // Cache prices left out carry over from the price in force when the new one starts.
          const current = priceAt(m, price.effectiveAt);
          await s.store.models.setPrice(m.id, {
            ...price,
            cacheWrite: body.pricing.cache_write_usd_per_mtok ?? current.cacheWrite,
            cacheRead: body.pricing.cache_read_usd_per_mtok ?? current.cacheRead,
          }, trx);
        }
      });
      const all = await reload(s);
      return { body: presentModel(all.find((x) => x.id === m.id)!, now) };
    },
  }),
];
