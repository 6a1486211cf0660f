import { usdPerMTokToMicro } from "../lib/index.js";
import type { ResolvedModel } from "../providers/index.js";
import type { Store } from "../store/index.js";

/** An organization's rule for models matched by a provider pattern alone, with no price. */
export type UnpricedRule = { action: "refuse" } | { action: "charge"; input: number; output: number };

const REFUSE: UnpricedRule = { action: "refuse" };
const TTL_MS = 1000;

/** The rule from an organization's settings (`unpriced_models`, as the management API stores it). */
export function readUnpricedRule(settings: Record<string, unknown>): UnpricedRule {
  const r = settings.unpriced_models as { action?: string; input_usd_per_mtok?: string; output_usd_per_mtok?: string } | undefined;
  if (r?.action !== "charge") return REFUSE;
  try {
    return { action: "charge", input: usdPerMTokToMicro(r.input_usd_per_mtok ?? ""), output: usdPerMTokToMicro(r.output_usd_per_mtok ?? "") };
  } catch {
    return REFUSE;
  }
}

/**
 * Each organization's unpriced-model rule, read from the store at most once a second per
 * organization, and only when a request names an unpriced model (the common path never asks).
 */
export class UnpricedRules {
  private readonly cache = new Map<string, { at: number; rule: UnpricedRule }>();

  constructor(private readonly store: Store, private readonly now: () => number) {}

  async get(orgId: string): Promise<UnpricedRule> {
    const hit = this.cache.get(orgId);
    const now = this.now();
    if (hit && now - hit.at < TTL_MS) return hit.rule;
    const org = await this.store.orgs.getOrganizationById(orgId);
    const rule = readUnpricedRule(org?.settings ?? {});
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(orgId, { at: now, rule });
    return rule;
  }

  /** The model priced by a charge rule (cache prices: none, the rule names input and output only). */
  static priced(model: ResolvedModel, rule: Extract<UnpricedRule, { action: "charge" }>): ResolvedModel {
    return { ...model, prices: [{ effectiveAt: 0, input: rule.input, output: rule.output, cacheWrite: rule.input, cacheRead: rule.input }] };
  }
}

/** The refusal of an unpriced model: which model, and the three ways to price it. */
export function unpricedMessage(model: ResolvedModel): string {
  return `The model '${model.id}' (${model.provider}) has no price in this gateway's catalog, so it is refused. `
    + `An administrator can price it with 'latchkey models import <file>' or POST /api/v1/models, `
    + `or let the organization charge unpriced models a stated price: PATCH /api/v1/organization `
    + `{"unpriced_models": {"action": "charge", "input_usd_per_mtok": "…", "output_usd_per_mtok": "…"}}.`;
}
