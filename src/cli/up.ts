import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import pc from "picocolors";
import { loadConfig, unknownEnvironment, type Config } from "../config/index.js";
import { createApp, type App } from "../main.js";
import { CliError, type CliContext } from "./context.js";

export interface UpOptions { port?: string; host?: string; dataDir?: string }

export function configFrom(o: UpOptions, env: NodeJS.ProcessEnv, warn: (line: string) => void = () => undefined): Config {
  const overrides: Record<string, unknown> = {};
  if (o.port !== undefined) overrides.port = o.port;
  if (o.host !== undefined) overrides.host = o.host;
  if (o.dataDir !== undefined) overrides.dataDir = o.dataDir;
  try {
    const config = loadConfig({ env, overrides });
    for (const name of unknownEnvironment(env)) warn(`Latchkey: ${name} is not a setting Latchkey knows; it is ignored (see the README's settings)\n`);
    return config;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Greets a first run: the keys (shown once), a curl example that works offline, the console. */
function printWelcome(ctx: CliContext, app: App, url: string): void {
  const created = app.bootstrap?.created;
  const w = (s = "") => ctx.out.write(`${s}\n`);
  w();
  w(`${pc.green("●")} Latchkey is running at ${pc.bold(url)}`);
  w(`  Console:  ${url}/console/`);
  if (app.bootstrap?.setupUrl) w(`  Create the first owner (one-time link): ${pc.bold(app.bootstrap.setupUrl.startsWith("/") ? url + app.bootstrap.setupUrl : app.bootstrap.setupUrl)}`);
  w(`  Data:     ${app.config.dataDir} (${app.database.dialect})`);
  if (!created) {
    w();
    w(pc.dim("  The CLI uses the admin key saved at first run; `latchkey keys list` shows your keys."));
    return;
  }
  w();
  w(pc.yellow("  These keys are shown once. Latchkey keeps only their hashes."));
  w(`  Admin key (management API and CLI): ${pc.bold(created.adminKey)}`);
  w(`  Test key  (gateway, built-in simulator): ${pc.bold(created.testKey)}`);
  w();
  w("  Try the gateway (works offline: test keys are answered by the built-in simulator):");
  w();
  w(`  curl ${url}/v1/messages \\`);
  w(`    -H "x-api-key: ${created.testKey}" \\`);
  w(`    -H "anthropic-version: 2023-06-01" \\`);
  w(`    -H "content-type: application/json" \\`);
  w(`    -d '{"model":"claude-sonnet-4-6","max_tokens":256,"messages":[{"role":"user","content":"Hello, Latchkey"}]}'`);
  w();
  w(`  The CLI is set up (${pc.dim(join(app.config.dataDir, "cli.json"))}): try ${pc.bold("npx latchkey keys list")}`);
  w();
}

export function registerUpCommand(program: Command, ctx: CliContext): void {
  program.command("up").description("start Latchkey; on first run create the organization, an admin key and a test key")
    .option("--port <port>", "port (default 8420)").option("--host <host>", "address to listen on (default 127.0.0.1)")
    .option("--data-dir <dir>", "data directory (default ./.latchkey)")
    .action(async (o: UpOptions) => {
      const config = configFrom(o, ctx.env, (line) => ctx.err.write(line));
      // createApp binds the port before it creates anything: a busy port stops a first run here.
      const app = await createApp(config).catch((e: NodeJS.ErrnoException) => {
        throw new CliError(e.code === "EADDRINUSE" ? `port ${config.port} is in use: is Latchkey already running? Use --port to pick another.`
          : e.code === "EACCES" ? `cannot listen on port ${config.port}: permission denied` : e.message);
      });
      const url = await app.listen();
      const publicUrl = config.publicUrl ?? url;
      if (app.bootstrap?.created) {
        mkdirSync(config.dataDir, { recursive: true });
        const file = join(config.dataDir, "cli.json");
        writeFileSync(file, `${JSON.stringify({ url: publicUrl, admin_key: app.bootstrap.created.adminKey }, null, 2)}\n`, { mode: 0o600 });
        chmodSync(file, 0o600);
      }
      printWelcome(ctx, app, publicUrl);
      await new Promise<void>((resolve) => {
        const stop = () => {
          ctx.err.write("Latchkey: stopping (finishing in-flight requests)…\n");
          void app.close().then(resolve, resolve);
        };
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
    });
}
