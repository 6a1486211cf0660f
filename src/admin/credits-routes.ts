import { z } from "zod";
import { AppError } from "../errors/index.js";
import { nanoToUsd, newId, toIso, usdToNano } from "../lib/index.js";
import type { CreditLedgerRow, CreditSettings } from "../store/index.js";
import { audited } from "./audit.js";
import { defineRoute, type RouteDef } from "./route.js";
import { pageQuery, usdAmount } from "./schemas.js";
import type { AdminServices } from "./services.js";
import "./settings-changes.js";

const signedUsd = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    const nano = usdToNano(v);
    if (nano === 0) throw new RangeError("zero");
    return nano;
  } catch {
    ctx.addIssue({ code: "custom", message: "must be a non-zero USD amount with at most 9 decimals, like \"50\" or \"-12.50\"" });
    return z.NEVER;
  }
});

function presentEntry(e: CreditLedgerRow) {
  return {
    id: e.id, object: "credit_ledger_entry", seq: Number(e.seq), at: toIso(e.at), kind: e.kind,
    amount_usd: nanoToUsd(Number(e.amount_nano), 9), amount_nano_usd: Number(e.amount_nano),
    balance_after_usd: nanoToUsd(Number(e.balance_after_nano), 9), balance_after_nano_usd: Number(e.balance_after_nano), actor: e.actor, note: e.note,
  };
}

async function presentCredits(s: AdminServices, orgId: string, limit: number, after?: string) {
  const { account, balanceNano, pendingNano } = await s.store.credits.balance(orgId);
  const before = after ? await s.store.credits.seqOf(orgId, after) : undefined;
  if (after && before === null) throw new AppError("invalid_request", "after is not a ledger entry id");
  const rows = await s.store.credits.listLedger(orgId, limit + 1, before ?? undefined);
  const data = rows.slice(0, limit).map(presentEntry);
  const autoAmount = account?.auto_top_up_amount_nano ?? null;
  const autoBelow = account?.auto_top_up_below_nano ?? null;
  return {
    object: "credits",
    // The ledger's sum minus usage made since credits were enabled that the roll-up has not
    // charged to the ledger yet (at most about a minute of usage, shown as pending).
    balance_usd: nanoToUsd(balanceNano, 9), balance_nano_usd: balanceNano, pending_usage_nano_usd: pendingNano,
    credits_enabled: account?.enabled_at != null, enabled_at: toIso(account?.enabled_at ?? null),
    low_balance_usd: account?.low_balance_nano != null ? nanoToUsd(Number(account.low_balance_nano)) : null,
    auto_top_up: autoAmount !== null && autoBelow !== null ? { amount_usd: nanoToUsd(Number(autoAmount)), when_below_usd: nanoToUsd(Number(autoBelow)) } : null,
    ledger: { data, has_more: rows.length > limit, last_id: data.length ? data[data.length - 1]!.id : null },
  };
}

export const creditRoutes: RouteDef[] = [
  defineRoute({
    method: "GET", path: "/api/v1/credits", tag: "credits", summary: "Credit balance, settings and the ledger (newest first)",
    query: z.strictObject(pageQuery),
    handler: async ({ query, principal, services: s }) => ({ body: await presentCredits(s, principal.orgId, query.limit, query.after) }),
  }),
  defineRoute({
    method: "POST", path: "/api/v1/credits", tag: "credits", summary: "Add credits or adjust the balance (a ledger entry)",
    body: z.strictObject({ amount_usd: signedUsd, note: z.string().trim().min(1).max(500), kind: z.enum(["top_up", "adjustment"]).optional() }),
    handler: async ({ body, principal, actor, services: s }) => {
      const now = s.clock.now();
      const kind = body.kind ?? (body.amount_usd > 0 ? "top_up" : "adjustment");
      const entry = await audited(s, actor, "credits.added", principal.orgId, { amount_nano_usd: body.amount_usd, note: body.note, kind }, (trx) =>
        s.store.credits.append({ orgId: principal.orgId, id: newId("crd", now), at: now, kind, amountNano: body.amount_usd, actor: actor.id, note: body.note }, trx));
      // The gateway's balance counter takes the entry before this call returns.
      await s.settingsChanges?.creditsAdded(principal.orgId, body.amount_usd, Number(entry.seq));
      await s.alerts.checkCredits(principal.orgId);
      return { status: 201, body: presentEntry(entry) };
    },
  }),
  defineRoute({
    method: "PATCH", path: "/api/v1/credits/settings", tag: "credits",
    summary: "Enable or disable credits, set the low-balance threshold and the auto top-up rule",
    body: z.strictObject({
      credits_enabled: z.boolean().optional(),
      low_balance_usd: usdAmount.nullable().optional(),
      auto_top_up: z.strictObject({ amount_usd: usdAmount, when_below_usd: usdAmount }).nullable().optional(),
    }),
    handler: async ({ body, principal, actor, services: s }) => {
      const now = s.clock.now();
      const account = await s.store.credits.getAccount(principal.orgId);
      const changes: Partial<CreditSettings> = {};
      if (body.credits_enabled !== undefined && body.credits_enabled !== (account?.enabled_at != null)) changes.enabledAt = body.credits_enabled ? now : null;
      if (body.low_balance_usd !== undefined) changes.lowBalanceNano = body.low_balance_usd;
      if (body.auto_top_up !== undefined) changes.autoTopUp = body.auto_top_up && { amountNano: body.auto_top_up.amount_usd, whenBelowNano: body.auto_top_up.when_below_usd };
      await audited(s, actor, "credits.settings_updated", principal.orgId, body as Record<string, unknown>, async (trx) => {
        await s.store.credits.updateSettings(principal.orgId, changes, now, trx);
        if (body.credits_enabled !== undefined) {
          // Mirrored on the organization so that GET /api/v1/organization and the gateway see it.
          const org = await s.store.orgs.getOrganizationById(principal.orgId, trx);
          if (org) await s.store.orgs.updateOrganization(org.id, { settings: { ...org.settings, credits_enabled: body.credits_enabled } }, trx);
        }
      });
      // In force before this call returns: a request sent the moment it does is charged (or not).
      if (changes.enabledAt) await s.settingsChanges?.creditsEnabled(principal.orgId);
      else await s.settingsChanges?.orgChanged(principal.orgId);
      await s.alerts.checkCredits(principal.orgId);
      return { body: await presentCredits(s, principal.orgId, 20) };
    },
  }),
];
