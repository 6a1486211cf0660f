import type { Command } from "commander";
import { CliError, printTable, type CliContext } from "./context.js";

const BY = { key: "api_key_id", model: "model", workspace: "workspace_id", provider: "provider", day: null, hour: null } as const;
type By = keyof typeof BY;

interface Row { label: string; requests: number; errors: number; input: number; cacheWrite: number; cacheRead: number; output: number; costNano: number }

function since(v: string): string {
  const m = /^(\d+)([dhm])$/.exec(v);
  if (m) return new Date(Date.now() - Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as "d" | "h" | "m"]).toISOString();
  if (Number.isNaN(Date.parse(v))) throw new CliError(`--since: '${v}' is not a time (use 7d, 12h or 2026-01-01T00:00:00Z)`);
  return new Date(v).toISOString();
}

function usd(nano: number): string {
  return `$${(nano / 1e9).toFixed(4)}`;
}

/** `latchkey usage --by key|model|workspace|provider|day|hour --since 7d [--csv]`. */
export function registerUsageCommand(program: Command, ctx: CliContext): void {
  program.command("usage").description("usage and cost per key, model, workspace, provider, day or hour")
    .option("--by <dimension>", "key, model, workspace, provider, day or hour", "day")
    .option("--since <when>", "start: 7d, 12h, or an RFC 3339 time", "7d")
    .option("--csv", "print CSV")
    .action(async (o: { by: string; since: string; csv?: boolean }) => {
      if (!(o.by in BY)) throw new CliError(`--by: '${o.by}' is not one of ${Object.keys(BY).join(", ")}`);
      const by = o.by as By;
      const width = by === "hour" ? "1h" : "1d";
      const group = BY[by];
      const rows = new Map<string, Row>();
      let page: string | null = null;
      const raw: unknown[] = [];
      do {
        const qs = new URLSearchParams({ starting_at: since(o.since), bucket_width: width, limit: width === "1h" ? "168" : "31" });
        if (group) qs.append("group_by[]", group);
        if (page) qs.set("page", page);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const rep: any = await ctx.api("GET", `/api/v1/usage?${qs.toString()}`);
        raw.push(...rep.data);
        for (const b of rep.data) {
          for (const r of b.results) {
            const label = group ? String(r[group]) : String(b.starting_at).slice(0, width === "1h" ? 16 : 10);
            const acc = rows.get(label) ?? { label, requests: 0, errors: 0, input: 0, cacheWrite: 0, cacheRead: 0, output: 0, costNano: 0 };
            acc.requests += r.requests; acc.errors += r.errors; acc.input += r.uncached_input_tokens; acc.cacheWrite += r.cache_creation_input_tokens;
            acc.cacheRead += r.cache_read_input_tokens; acc.output += r.output_tokens; acc.costNano += r.cost_nano_usd;
            rows.set(label, acc);
          }
        }
        page = rep.has_more ? rep.next_page : null;
      } while (page);
      const list = [...rows.values()].sort((a, b) => (group ? b.costNano - a.costNano : a.label < b.label ? -1 : 1));
      const head = [by, "requests", "errors", "input", "cache write", "cache read", "output", "cost"];
      if (o.csv) {
        ctx.out.write(`${[by, "requests", "errors", "uncached_input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens", "cost_usd"].join(",")}\n`);
        for (const r of list) ctx.out.write(`${[JSON.stringify(r.label), r.requests, r.errors, r.input, r.cacheWrite, r.cacheRead, r.output, (r.costNano / 1e9).toFixed(9)].join(",")}\n`);
        return;
      }
      printTable(ctx, head, list.map((r) => [r.label, r.requests, r.errors, r.input, r.cacheWrite, r.cacheRead, r.output, usd(r.costNano)]), raw);
    });
}
