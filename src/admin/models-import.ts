import { z } from "zod";
import { priceAt } from "../providers/index.js";
import type { ModelFamily, ModelPrice } from "../store/index.js";
import { audited } from "./audit.js";
import { fields, modelId, pricing, refuseClash, reload, toPrice } from "./models-routes.js";
import { defineRoute } from "./route.js";

const importedModel = z.strictObject({
  id: modelId, ...fields, display_name: fields.display_name.optional(), kind: fields.kind.default("chat"), aliases: fields.aliases.default([]),
  context_window: fields.context_window.default(128_000), pricing,
});
const importedFamily = z.strictObject({
  pattern: z.string().min(2).max(200).regex(/^[A-Za-z0-9._:@*?[\]-]+$/).refine((p) => p.includes("*") || p.includes("?") || p.includes("["), "a family pattern has a wildcard"),
  provider: fields.provider, kind: fields.kind.default("chat"), max_output_tokens: fields.max_output_tokens, context_window: fields.context_window.default(128_000),
  pricing: pricing.omit({ effective_at: true }),
});
/** A price list: `latchkey models import <file>` sends the file as it is. */
const importBody = z.strictObject({
  models: z.array(importedModel).max(5000).default([]),
  families: z.array(importedFamily).max(500).default([]),
}).refine((b) => b.models.length + b.families.length > 0, "the price list has no models and no families");

const samePrice = (a: ModelPrice, b: ModelPrice) => a.input === b.input && a.output === b.output && a.cacheWrite === b.cacheWrite && a.cacheRead === b.cacheRead;

/**
 * Loads a price list in one transaction: new models are added (their price holds from the start
 * of time unless `effective_at` says otherwise), listed models get the new price from now (or
 * `effective_at`) only when it differs, and families are added or replaced, tried in file order
 * before the shipped ones. Past usage keeps its price.
 */
export const modelImportRoute = defineRoute({
  method: "POST", path: "/api/v1/models/import", tag: "models",
  summary: "Import a price list (models and family patterns) so prices change without a release",
  body: importBody,
  handler: async ({ body, actor, services: s }) => {
    const now = s.clock.now();
    const existing = await s.store.models.listAll();
    const byId = new Map(existing.map((m) => [m.id, m]));
    const names = body.models.flatMap((m) => [m.id, ...m.aliases.filter((a) => !byId.get(m.id)?.aliases.includes(a))]);
    refuseClash(existing.filter((m) => !body.models.some((x) => x.id === m.id)), null, names);
    const created: string[] = [];
    const updated: string[] = [];
    await audited(s, actor, "models.imported", null, { models: body.models.map((m) => m.id), families: body.families.map((f) => f.pattern) }, async (trx) => {
      for (const m of body.models) {
        const old = byId.get(m.id);
        await s.store.models.upsert({
          id: m.id, provider: m.provider, displayName: m.display_name ?? old?.displayName ?? m.id, kind: m.kind, aliases: m.aliases,
          maxOutputTokens: m.max_output_tokens, contextWindow: m.context_window,
        }, now, trx);
        const price = toPrice(m.pricing, old ? now : 0);
        if (old && samePrice(priceAt(old, price.effectiveAt), price)) continue;
        await s.store.models.setPrice(m.id, price, trx);
        (old ? updated : created).push(m.id);
      }
      for (const [i, f] of body.families.entries()) {
        const family: ModelFamily = {
          pattern: f.pattern, provider: f.provider, kind: f.kind, maxOutputTokens: f.max_output_tokens, contextWindow: f.context_window,
          price: { input: f.pricing.input_usd_per_mtok, output: f.pricing.output_usd_per_mtok, cacheWrite: f.pricing.cache_write_usd_per_mtok ?? 0, cacheRead: f.pricing.cache_read_usd_per_mtok ?? 0 },
        };
        await s.store.models.upsertFamily(family, i, now, trx);
      }
    });
    await reload(s);
    return { body: { object: "model_import", created, updated, unchanged: body.models.length - created.length - updated.length, families: body.families.length } };
  },
});
