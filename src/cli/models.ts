import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { CliError, EXIT, printObject, printTable, type CliContext } from "./context.js";

interface PriceOptions { input?: string; output?: string; cacheWrite?: string; cacheRead?: string; effective?: string }

/** `latchkey models …`: the catalog and its prices (USD per million tokens). */
export function registerModelsCommand(program: Command, ctx: CliContext): void {
  const cmd = program.command("models").description("the model catalog: providers, aliases, prices");

  cmd.command("list").description("list models with their current prices").action(async () => {
    const r = await ctx.api("GET", "/api/v1/models");
    const rows = (r.data as { id: string; provider: string; kind: string; aliases: string[]; max_output_tokens: number; pricing: Record<string, string> }[])
      .map((m) => [m.id, m.provider, m.kind, m.pricing.input_usd_per_mtok, m.pricing.output_usd_per_mtok, m.pricing.cache_write_usd_per_mtok, m.pricing.cache_read_usd_per_mtok, m.max_output_tokens, m.aliases.join(", ")]);
    printTable(ctx, ["model", "provider", "kind", "input $/M", "output $/M", "cache write $/M", "cache read $/M", "max out", "aliases"], rows, r);
  });

  cmd.command("set-price <model>").description("set a model's price from now (or --effective); past usage keeps its price")
    .requiredOption("--input <usd>", "USD per million input tokens")
    .requiredOption("--output <usd>", "USD per million output tokens")
    .option("--cache-write <usd>", "USD per million cache-write tokens (default: unchanged)")
    .option("--cache-read <usd>", "USD per million cache-read tokens (default: unchanged)")
    .option("--effective <time>", "RFC 3339 time the price takes effect (default now)")
    .action(async (model: string, o: PriceOptions) => {
      const pricing: Record<string, string> = { input_usd_per_mtok: o.input!, output_usd_per_mtok: o.output! };
      if (o.cacheWrite) pricing.cache_write_usd_per_mtok = o.cacheWrite;
      if (o.cacheRead) pricing.cache_read_usd_per_mtok = o.cacheRead;
      if (o.effective) pricing.effective_at = o.effective;
      const m = await ctx.api("PATCH", `/api/v1/models/${encodeURIComponent(model)}`, { pricing });
      printObject(ctx, { id: m.id, ...m.pricing });
    });

  cmd.command("import <file>").description("load a JSON price list ({\"models\": [...], \"families\": [...]}); changed prices take effect now")
    .action(async (file: string) => {
      let list: unknown;
      try {
        list = JSON.parse(readFileSync(file, "utf8"));
      } catch (err) {
        throw new CliError(`cannot read the price list ${file}: ${(err as Error).message}`, EXIT.usage);
      }
      const r = await ctx.api("POST", "/api/v1/models/import", list);
      printObject(ctx, { created: (r.created as string[]).join(", ") || "none", updated: (r.updated as string[]).join(", ") || "none", unchanged: r.unchanged, families: r.families });
    });
}
