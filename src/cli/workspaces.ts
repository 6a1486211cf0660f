import type { Command } from "commander";
import { printObject, printTable, shortTime, type CliContext } from "./context.js";
import { list, positiveInt, rateLimits, spendLimit } from "./options.js";

interface WsOptions { name?: string; models?: string[]; rpm?: number; tpm?: number; concurrency?: number; spendLimit?: { amount_usd: string; period: string } | null }

function body(o: WsOptions): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (o.name) b.name = o.name;
  if (o.models) b.allowed_models = o.models;
  const rl = rateLimits(o);
  if (rl) b.rate_limits = rl;
  if (o.spendLimit !== undefined) b.spend_limit = o.spendLimit;
  return b;
}

function withSettings(c: Command): Command {
  return c.option("--models <list>", "allowed models (ids or globs)", list)
    .option("--rpm <n>", "requests per minute", positiveInt).option("--tpm <n>", "tokens per minute", positiveInt)
    .option("--concurrency <n>", "concurrent requests", positiveInt)
    .option("--spend-limit <amount/period>", "e.g. 100/month; none to clear", spendLimit);
}

export function registerWorkspacesCommand(program: Command, ctx: CliContext): void {
  const ws = program.command("workspaces").description("create, list, change and archive workspaces");
  ws.command("list").option("--all", "include archived workspaces").action(async (o: { all?: boolean }) => {
    const page = await ctx.api("GET", `/api/v1/workspaces?limit=1000${o.all ? "&include_archived=true" : ""}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    printTable(ctx, ["id", "name", "default", "spend limit", "archived", "created"], page.data.map((w: any) => [
      w.id, w.name, w.is_default ? "yes" : "", w.spend_limit ? `$${w.spend_limit.amount_usd}/${w.spend_limit.period}` : null, shortTime(w.archived_at), shortTime(w.created_at),
    ]), page);
  });
  withSettings(ws.command("create").requiredOption("--name <name>")).action(async (o: WsOptions) => printObject(ctx, await ctx.api("POST", "/api/v1/workspaces", body(o))));
  ws.command("show <id>").action(async (id: string) => printObject(ctx, await ctx.api("GET", `/api/v1/workspaces/${encodeURIComponent(id)}`)));
  withSettings(ws.command("update <id>").option("--name <name>")).action(async (id: string, o: WsOptions) =>
    printObject(ctx, await ctx.api("PATCH", `/api/v1/workspaces/${encodeURIComponent(id)}`, body(o))));
  ws.command("archive <id>").description("archive: its keys stop working").action(async (id: string) =>
    printObject(ctx, await ctx.api("POST", `/api/v1/workspaces/${encodeURIComponent(id)}/archive`, {})));
}
