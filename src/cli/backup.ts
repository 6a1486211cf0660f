import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { databaseUrl } from "../main.js";
import { loadMasterKey, masterKeyFingerprint } from "../master-key.js";
import { backupSqlite, readBackupInfo, restoreSqlite, sqliteInUse } from "../store/index.js";
import { CliError, printObject, type CliContext } from "./context.js";
import { configFrom } from "./up.js";

function sqliteFile(url: string): string {
  if (/^postgres(ql)?:\/\//.test(url)) throw new CliError("the database is PostgreSQL: back it up with pg_dump (see the README's backup section)");
  return url.startsWith("sqlite:") ? url.slice("sqlite:".length) : url;
}

/** The fingerprint of the master key this configuration would use, or null when it has none yet. */
function currentFingerprint(masterKey: string | undefined, dataDir: string): string | null {
  if (!masterKey && !existsSync(join(dataDir, "master.key"))) return null;
  return masterKeyFingerprint(loadMasterKey(masterKey, dataDir).key);
}

export function registerBackupCommands(program: Command, ctx: CliContext): void {
  program.command("backup <file>").description("copy the SQLite database, consistently, while the server runs; records the master key's fingerprint (not the key)")
    .option("--data-dir <dir>", "data directory (default ./.latchkey)")
    .action(async (file: string, o: { dataDir?: string }) => {
      const config = configFrom(o, ctx.env);
      const source = sqliteFile(databaseUrl(config));
      if (!existsSync(source)) throw new CliError(`no database at ${source}`);
      const info = await backupSqlite(source, file, currentFingerprint(config.masterKey, config.dataDir)).catch((e: Error) => {
        throw new CliError(`backup failed: ${e.message}`);
      });
      if (ctx.globals.json) return printObject(ctx, { file, master_key_fingerprint: info.fingerprint, keys: info.keys, usage_events: info.usageEvents, credentials: info.credentials });
      ctx.out.write(`backed up ${source} to ${file}: ${info.keys} keys, ${info.usageEvents} usage records, ${info.credentials} provider credentials\n`);
      ctx.out.write(info.fingerprint ? `master key fingerprint ${info.fingerprint}: keep that key (LATCHKEY_MASTER_KEY or master.key) safe, apart from the backup; without it the credentials cannot be opened\n`
        : "no master key yet (nothing is encrypted)\n");
    });

  program.command("restore <file>").description("put a backup in place as the database (stop the server first)")
    .option("--data-dir <dir>", "data directory (default ./.latchkey)")
    .option("--force", "replace an existing database")
    .action(async (file: string, o: { dataDir?: string; force?: boolean }) => {
      const config = configFrom(o, ctx.env);
      const dest = sqliteFile(databaseUrl(config));
      if (!existsSync(file)) throw new CliError(`no backup at ${file}`);
      const info = readBackupInfo(file);
      const have = currentFingerprint(config.masterKey, config.dataDir);
      if (info.fingerprint && !have) {
        throw new CliError(`the backup's credentials are sealed under master key ${info.fingerprint}, and there is none here: `
          + `set LATCHKEY_MASTER_KEY or put that key in ${join(config.dataDir, "master.key")} first`);
      }
      if (info.fingerprint && have !== info.fingerprint) {
        throw new CliError(`the backup was taken under master key ${info.fingerprint}, but the key here is ${have}: restore with the key the backup was taken with`);
      }
      if (existsSync(dest) && sqliteInUse(dest)) throw new CliError(`${dest} is open in another process: stop the server before restoring`);
      if (existsSync(dest) && !o.force) throw new CliError(`${dest} exists: add --force to replace it`);
      await restoreSqlite(file, dest);
      if (ctx.globals.json) return printObject(ctx, { restored: dest, keys: info.keys, usage_events: info.usageEvents, credentials: info.credentials });
      ctx.out.write(`restored ${file} to ${dest}: ${info.keys} keys, ${info.usageEvents} usage records, ${info.credentials} provider credentials; start the server\n`);
    });
}
