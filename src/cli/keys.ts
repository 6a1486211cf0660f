import type { Command } from "commander";
import pc from "picocolors";
import { printObject, printTable, shortTime, type CliContext } from "./context.js";
import { expiry, json, list, positiveInt, rateLimits, spendLimit } from "./options.js";

interface KeyOptions {
  name?: string; kind?: string; workspace?: string; scopes?: string[]; models?: string[]; ip?: string[]; origins?: string[];
  expires?: string | null; metadata?: Record<string, unknown>; rpm?: number; tpm?: number; concurrency?: number;
  spendLimit?: { amount_usd: string; period: string } | null;
}

function withKeySettings(cmd: Command): Command {
  return cmd
    .option("--scopes <list>", "comma-separated scopes (gateway: messages,chat,embeddings,responses,gemini,models,count_tokens; admin: keys:read,…; * for all)", list)
    .option("--models <list>", "allowed models, ids or globs like claude-*", list)
    .option("--ip <list>", "IP allow-list, addresses or CIDR blocks", list)
    .option("--origins <list>", "allowed browser origins (publishable keys)", list)
    .option("--expires <when>", "expiry: an RFC 3339 time, or 30d / 12h / 90m from now, or never", expiry)
    .option("--metadata <json>", "a JSON object kept with the key", json)
    .option("--rpm <n>", "requests per minute", positiveInt)
    .option("--tpm <n>", "tokens per minute", positiveInt)
    .option("--concurrency <n>", "concurrent requests", positiveInt)
    .option("--spend-limit <amount/period>", "e.g. 25.00/month; none to clear", spendLimit);
}

function settingsBody(o: KeyOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (o.name !== undefined) body.name = o.name;
  if (o.scopes) body.scopes = o.scopes;
  if (o.models) body.allowed_models = o.models;
  if (o.ip) body.ip_allowlist = o.ip;
  if (o.origins) body.allowed_origins = o.origins;
  if (o.expires !== undefined) body.expires_at = o.expires;
  if (o.metadata) body.metadata = o.metadata;
  const rl = rateLimits(o);
  if (rl) body.rate_limits = rl;
  if (o.spendLimit !== undefined) body.spend_limit = o.spendLimit;
  return body;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function keyRow(k: any) {
  return [k.id, k.name, k.kind, k.status, k.hint, shortTime(k.last_used_at), shortTime(k.created_at)];
}
const KEY_HEAD = ["id", "name", "kind", "status", "hint", "last used", "created"];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function showSecretOnce(ctx: CliContext, k: any): void {
  if (ctx.globals.json) {
    ctx.out.write(`${JSON.stringify(k, null, 2)}\n`);
    return;
  }
  ctx.out.write(`${pc.green("✔")} ${k.kind} key ${pc.bold(k.id)} (${k.name})\n\n  ${pc.bold(k.key)}\n\n`);
  ctx.out.write(pc.yellow("  This is the only time the key is shown. Store it now; Latchkey keeps only its hash.\n"));
}

export function registerKeysCommand(program: Command, ctx: CliContext): void {
  const keys = program.command("keys").description("issue, list, change, roll and revoke API keys");

  withKeySettings(keys.command("create").description("create a key and print it once")
    .requiredOption("--name <name>", "a name people recognise")
    .option("--kind <kind>", "live, test, publishable or admin", "live")
    .option("--workspace <id>", "workspace id (default: the default workspace)"))
    .action(async (o: KeyOptions) => {
      const k = await ctx.api("POST", "/api/v1/keys", { ...settingsBody(o), kind: o.kind, ...(o.workspace ? { workspace_id: o.workspace } : {}) });
      showSecretOnce(ctx, k);
    });

  keys.command("list").description("list keys")
    .option("--workspace <id>").option("--status <status>", "active, disabled, revoked or expired").option("--kind <kind>")
    .option("--search <text>", "part of the name or hint").option("--limit <n>", "page size", positiveInt, 50).option("--after <id>", "cursor: last id of the previous page")
    .action(async (o: { workspace?: string; status?: string; kind?: string; search?: string; limit: number; after?: string }) => {
      const q = new URLSearchParams({ limit: String(o.limit) });
      if (o.workspace) q.set("workspace_id", o.workspace);
      if (o.status) q.set("status", o.status);
      if (o.kind) q.set("kind", o.kind);
      if (o.search) q.set("search", o.search);
      if (o.after) q.set("after", o.after);
      const page = await ctx.api("GET", `/api/v1/keys?${q}`);
      printTable(ctx, KEY_HEAD, page.data.map(keyRow), page);
      if (page.has_more && !ctx.globals.json) ctx.out.write(pc.dim(`more: latchkey keys list --after ${page.last_id}\n`));
    });

  keys.command("show <id>").description("show one key").action(async (id: string) => printObject(ctx, await ctx.api("GET", `/api/v1/keys/${encodeURIComponent(id)}`)));

  withKeySettings(keys.command("update <id>").description("change a key's settings").option("--name <name>"))
    .action(async (id: string, o: KeyOptions) => printObject(ctx, await ctx.api("PATCH", `/api/v1/keys/${encodeURIComponent(id)}`, settingsBody(o))));

  for (const action of ["disable", "enable"] as const) {
    keys.command(`${action} <id>`).description(`${action} a key`).action(async (id: string) => {
      const k = await ctx.api("POST", `/api/v1/keys/${encodeURIComponent(id)}/${action}`, {});
      if (ctx.globals.json) printObject(ctx, k);
      else ctx.out.write(`${k.id} is now ${k.status}\n`);
    });
  }

  keys.command("revoke <id>").description("revoke a key for good").option("--reason <text>")
    .action(async (id: string, o: { reason?: string }) => {
      const k = await ctx.api("POST", `/api/v1/keys/${encodeURIComponent(id)}/revoke`, o.reason ? { reason: o.reason } : {});
      if (ctx.globals.json) printObject(ctx, k);
      else ctx.out.write(`${k.id} is revoked\n`);
    });

  keys.command("roll <id>").description("issue a replacement; the old key keeps working for the grace period")
    .option("--grace <seconds>", "seconds the old key keeps working (0: stop at once)", (v) => Number(v), 86_400)
    .action(async (id: string, o: { grace: number }) => {
      const k = await ctx.api("POST", `/api/v1/keys/${encodeURIComponent(id)}/roll`, { grace_seconds: o.grace });
      showSecretOnce(ctx, k);
      if (!ctx.globals.json) ctx.out.write(`  The old key ${k.previous.id} stops working at ${k.previous.expires_at}.\n`);
    });
}
