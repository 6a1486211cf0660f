import { Command, CommanderError } from "commander";
import { VERSION } from "../main.js";
import { registerAuditCommand } from "./audit.js";
import { CliError, EXIT, createContext } from "./context.js";
import { registerKeysCommand } from "./keys.js";
import { registerCredentialsCommand } from "./credentials.js";
import { registerModelsCommand } from "./models.js";
import { registerSimulatorCommand } from "./simulator.js";
import { registerMigrateCommand } from "./migrate.js";
import { registerMigrateStoreCommand } from "./migrate-store.js";
import { registerBackupCommands } from "./backup.js";
import { registerUpCommand } from "./up.js";
import { registerWorkspacesCommand } from "./workspaces.js";
import { registerHookCommand } from "./hook.js";
import { registerScanCommand } from "./scan.js";
import { registerUsageCommand } from "./usage.js";
import { registerCreditsCommand } from "./credits.js";
import { registerWebhooksCommand } from "./webhooks.js";

/** Runs the CLI; resolves with the exit code. Errors print as one line, never a stack trace. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = new Command("latchkey")
    .description("Latchkey: API keys and an AI gateway for Anthropic, OpenAI and Gemini")
    .version(VERSION)
    .option("--url <url>", "server URL (default $LATCHKEY_URL, the CLI config, or http://127.0.0.1:8420)")
    .option("--admin-key <key>", "admin key (default $LATCHKEY_ADMIN_KEY or the CLI config)")
    .option("--json", "print JSON for scripts")
    .showHelpAfterError()
    .exitOverride();
  const globals: { url?: string; adminKey?: string; json?: boolean } = {};
  program.hook("preAction", () => {
    Object.assign(globals, program.opts());
  });
  const ctx = createContext(globals, env);

  registerUpCommand(program, ctx);
  registerMigrateCommand(program, ctx);
  registerMigrateStoreCommand(program, ctx);
  registerBackupCommands(program, ctx);
  registerKeysCommand(program, ctx);
  registerCredentialsCommand(program, ctx);
  registerModelsCommand(program, ctx);
  registerSimulatorCommand(program, ctx);
  registerWorkspacesCommand(program, ctx);
  registerAuditCommand(program, ctx);
  registerScanCommand(program, ctx);
  registerHookCommand(program, ctx);
  registerUsageCommand(program, ctx);
  registerCreditsCommand(program, ctx);
  registerWebhooksCommand(program, ctx);
  for (const c of program.commands) c.exitOverride().showHelpAfterError();

  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof CliError) {
      ctx.err.write(`latchkey: ${err.message}\n`);
      return err.exitCode;
    }
    ctx.err.write(`latchkey: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
}
