import type { Command } from "commander";
import pc from "picocolors";
import { printObject, printTable, shortTime, type CliContext } from "./context.js";
import { list } from "./options.js";

/** `latchkey webhooks add|list|remove|deliveries`. */
export function registerWebhooksCommand(program: Command, ctx: CliContext): void {
  const w = program.command("webhooks").description("signed webhook endpoints for alerts and events");
  w.command("add <url>").option("--events <list>", "event types, or * for all", list, ["*"]).action(async (url: string, o: { events: string[] }) => {
    const r = await ctx.api("POST", "/api/v1/webhooks", { url, events: o.events });
    printObject(ctx, r);
    if (!ctx.globals.json) ctx.err.write(pc.yellow("Store the secret now: it is not shown again.\n"));
  });
  w.command("list").action(async () => {
    const r = await ctx.api("GET", "/api/v1/webhooks");
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    printTable(ctx, ["id", "url", "events", "created"], r.data.map((e: any) => [e.id, e.url, e.events.join(","), shortTime(e.created_at)]), r);
  });
  w.command("remove <id>").action(async (id: string) => printObject(ctx, await ctx.api("DELETE", `/api/v1/webhooks/${encodeURIComponent(id)}`)));
  w.command("deliveries <id>").option("--limit <n>", "how many", "20").action(async (id: string, o: { limit: string }) => {
    const r = await ctx.api("GET", `/api/v1/webhooks/${encodeURIComponent(id)}/deliveries?limit=${encodeURIComponent(o.limit)}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    printTable(ctx, ["delivery", "event", "status", "attempts", "last code", "last error", "updated"], r.data.map((d: any) => [
      d.id, d.event_type, d.status, d.attempts, d.last_status_code, d.last_error, shortTime(d.updated_at),
    ]), r);
  });
}
