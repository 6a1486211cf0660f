import type { Command } from "commander";
import { databaseUrl } from "../main.js";
import { migrate, openDatabase } from "../store/index.js";
import type { CliContext } from "./context.js";
import { configFrom } from "./up.js";

export function registerMigrateCommand(program: Command, ctx: CliContext): void {
  program.command("migrate").description("apply pending database migrations and exit")
    .option("--data-dir <dir>", "data directory (default ./.latchkey)")
    .action(async (o: { dataDir?: string }) => {
      const config = configFrom(o, ctx.env);
      const db = openDatabase({ url: databaseUrl(config) });
      try {
        const applied = await migrate(db);
        ctx.out.write(applied.length ? `applied: ${applied.join(", ")}\n` : `up to date (${db.dialect} at ${db.location})\n`);
      } finally {
        await db.close();
      }
    });
}
