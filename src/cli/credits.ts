import type { Command } from "commander";
import { printObject, printTable, shortTime, type CliContext } from "./context.js";

/** `latchkey credits add 50 --note "…"`, `credits show`, `credits settings`. */
export function registerCreditsCommand(program: Command, ctx: CliContext): void {
  const c = program.command("credits").description("prepaid credits: balance, ledger, top-ups and adjustments");
  c.command("add <amount_usd>").description("add credits (a negative amount adjusts down)").requiredOption("--note <text>", "why (kept in the ledger)")
    .action(async (amount: string, o: { note: string }) => printObject(ctx, await ctx.api("POST", "/api/v1/credits", { amount_usd: amount, note: o.note })));
  c.command("show").description("balance, settings and recent ledger entries").option("--limit <n>", "ledger entries", "20").action(async (o: { limit: string }) => {
    const r = await ctx.api("GET", `/api/v1/credits?limit=${encodeURIComponent(o.limit)}`);
    if (ctx.globals.json) return printObject(ctx, r);
    printObject(ctx, { balance_usd: r.balance_usd, credits_enabled: r.credits_enabled, low_balance_usd: r.low_balance_usd, auto_top_up: r.auto_top_up });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    printTable(ctx, ["when", "kind", "amount", "balance after", "who", "note"], r.ledger.data.map((e: any) => [shortTime(e.at), e.kind, e.amount_usd, e.balance_after_usd, e.actor, e.note]), r);
  });
  c.command("settings").description("enable credits, set the low-balance threshold and the auto top-up rule")
    .option("--enable").option("--disable").option("--low-balance <usd>", "alert below this balance; none to clear")
    .option("--auto-top-up <amount/below>", "e.g. 100/20: ask for $100 when below $20; none to clear")
    .action(async (o: { enable?: boolean; disable?: boolean; lowBalance?: string; autoTopUp?: string }) => {
      const body: Record<string, unknown> = {};
      if (o.enable) body.credits_enabled = true;
      if (o.disable) body.credits_enabled = false;
      if (o.lowBalance) body.low_balance_usd = o.lowBalance === "none" ? null : o.lowBalance;
      if (o.autoTopUp) {
        const [amount, below] = o.autoTopUp.split("/");
        body.auto_top_up = o.autoTopUp === "none" ? null : { amount_usd: amount, when_below_usd: below };
      }
      const r = await ctx.api("PATCH", "/api/v1/credits/settings", body);
      printObject(ctx, { balance_usd: r.balance_usd, credits_enabled: r.credits_enabled, low_balance_usd: r.low_balance_usd, auto_top_up: r.auto_top_up });
    });
}
