import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import pc from "picocolors";
import { CliError, EXIT, printTable, shortTime, type CliContext } from "./context.js";
import { positiveInt } from "./options.js";

export function registerAuditCommand(program: Command, ctx: CliContext): void {
  const audit = program.command("audit").description("read and verify the hash-chained audit log");
  audit.command("list").option("--actor <id>").option("--target <id>").option("--action <name>")
    .option("--since <time>", "RFC 3339").option("--limit <n>", "how many", positiveInt, 50)
    .action(async (o: { actor?: string; target?: string; action?: string; since?: string; limit: number }) => {
      const q = new URLSearchParams({ limit: String(o.limit) });
      for (const k of ["actor", "target", "action", "since"] as const) if (o[k]) q.set(k, o[k]!);
      const page = await ctx.api("GET", `/api/v1/audit?${q}`);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      printTable(ctx, ["seq", "at", "actor", "action", "target"], page.data.map((e: any) => [e.seq, shortTime(e.at), e.actor, e.action, e.target]), page);
    });
  audit.command("verify").description("walk the chain and its seals; exit 1 and name the first broken link if a record was altered, removed or moved")
    .option("--checkpoint <file>", "also check against a checkpoint from `latchkey audit checkpoint` (catches records cut from the end)")
    .action(async (o: { checkpoint?: string }) => {
      const r = o.checkpoint
        ? await ctx.api("POST", "/api/v1/audit/verify", { checkpoint: readCheckpoint(o.checkpoint) })
        : await ctx.api("GET", "/api/v1/audit/verify");
      if (ctx.globals.json) ctx.out.write(`${JSON.stringify(r, null, 2)}\n`);
      else if (r.ok) ctx.out.write(`${pc.green("✔")} audit chain intact: ${r.count} records${o.checkpoint ? ", consistent with the checkpoint" : ""}\n`);
      if (!r.ok) {
        const b = r.broken_at;
        throw new CliError(`audit chain broken at record ${b.seq} (${b.id}): ${b.reason}`, EXIT.negative);
      }
    });
  audit.command("checkpoint").description("print the log's sealed head, to keep outside the database and give to `audit verify --checkpoint` later")
    .option("--out <file>", "also write it to this file")
    .action(async (o: { out?: string }) => {
      const r = await ctx.api("GET", "/api/v1/audit/checkpoint");
      const cp = JSON.stringify({ count: r.count, hash: r.hash, at: r.at, seal: r.seal });
      if (o.out) writeFileSync(o.out, `${cp}\n`, { mode: 0o600 });
      ctx.out.write(`${cp}\n`);
    });
}

/** A checkpoint from a file, or `-` for standard input. */
function readCheckpoint(file: string): unknown {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${file} does not hold a checkpoint (one line of JSON from \`latchkey audit checkpoint\`)`);
  }
}
