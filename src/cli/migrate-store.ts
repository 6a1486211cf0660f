import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { databaseUrl } from "../main.js";
import { loadMasterKey, loadPreviousMasterKey, masterKeyFingerprint } from "../master-key.js";
import { CopyRefusedError, copyStore, openDatabase, sealedRecordsByKey, sqliteInUse, type Database } from "../store/index.js";
import { CliError, printObject, type CliContext } from "./context.js";
import { configFrom } from "./up.js";

/** A copy of a large store is one long transaction on each side; the usual statement limit would cut it. */
const COPY_TIMEOUT_MS = 6 * 60 * 60 * 1000;

const isPostgres = (url: string) => /^postgres(ql)?:\/\//.test(url);
const sqlitePath = (url: string) => url.replace(/^sqlite:/, "");
const shown = (url: string) => url.replace(/\/\/[^@/]*@/, "//***@");

function refuseBusySqlite(url: string, role: string): void {
  if (!isPostgres(url) && sqliteInUse(sqlitePath(url))) {
    throw new CliError(`the ${role} ${sqlitePath(url)} is open in another process: stop every server using it, then copy`);
  }
}

/**
 * The master key, when one is at hand, and during a rolling rotation the one it replaces
 * (LATCHKEY_MASTER_KEY_PREVIOUS): the audit seals are checked under the key the log is sealed with.
 */
function masterKeysOf(config: ReturnType<typeof configFrom>): { masterKey: Buffer | undefined; previous: Buffer | null } {
  const hasKey = config.masterKey !== undefined || existsSync(join(config.dataDir, "master.key"));
  if (!hasKey) {
    if (config.masterKeyPrevious) throw new CliError("LATCHKEY_MASTER_KEY_PREVIOUS is set but there is no current master key (LATCHKEY_MASTER_KEY or master.key in the data directory)");
    return { masterKey: undefined, previous: null };
  }
  const masterKey = loadMasterKey(config.masterKey, config.dataDir).key;
  try {
    return { masterKey, previous: loadPreviousMasterKey(config.masterKeyPrevious, masterKey) };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export function registerMigrateStoreCommand(program: Command, ctx: CliContext): void {
  program.command("migrate-store").description("copy every record from the configured database to another, empty one (SQLite to PostgreSQL, or back), and verify the copy")
    .requiredOption("--to <url>", "the target: postgres://user@host/db, or a SQLite file (sqlite:path or a path)")
    .option("--from <url>", "the source (default: the configured database)")
    .option("--data-dir <dir>", "data directory (default ./.latchkey)")
    .action(async (o: { to: string; from?: string; dataDir?: string }) => {
      const config = configFrom(o, ctx.env);
      const from = o.from ?? databaseUrl(config);
      const to = o.to;
      if (!isPostgres(from) && !existsSync(sqlitePath(from))) throw new CliError(`no database at ${sqlitePath(from)}`);
      if (!isPostgres(to) && existsSync(sqlitePath(to)) && !isPostgres(from)
        && statSync(sqlitePath(to)).ino === statSync(sqlitePath(from)).ino) throw new CliError("the source and the target are the same file");
      if (isPostgres(to) && to === from) throw new CliError("the source and the target are the same database");
      // A server writing during the copy would leave records behind; on SQLite that can be checked.
      refuseBusySqlite(from, "source");
      refuseBusySqlite(to, "target");

      const dbs: Database[] = [];
      try {
        const source = openDatabase({ url: from, statementTimeoutMs: COPY_TIMEOUT_MS });
        dbs.push(source);
        const target = openDatabase({ url: to, statementTimeoutMs: COPY_TIMEOUT_MS });
        dbs.push(target);
        const { masterKey, previous } = masterKeysOf(config);
        const keys = masterKey ? (previous ? [masterKey, previous] : [masterKey]) : undefined;
        const result = await copyStore(source, target, {
          masterKey: keys,
          onTable: ctx.globals.json ? undefined : (t) => ctx.out.write(`  ${t.table}: ${t.rows}\n`),
        }).catch((err: Error) => {
          if (err instanceof CopyRefusedError) throw new CliError(err.message);
          throw new CliError(`the copy failed and nothing was committed to the target: ${err.message}`);
        });
        const fingerprint = masterKey ? masterKeyFingerprint(masterKey) : null;
        const previousFingerprint = previous ? masterKeyFingerprint(previous) : null;
        // The copy's sealed records, by the key that opens them: the current one, the previous one, neither.
        const counts = keys ? await sealedRecordsByKey(target, keys) : [];
        const underCurrent = counts[0] ?? 0;
        const underPrevious = previous ? counts[1]! : 0;
        const unopened = keys ? counts[keys.length]! : 0;
        const rows = result.tables.reduce((n, t) => n + t.rows, 0);
        if (ctx.globals.json) {
          return printObject(ctx, {
            from: shown(from), to: shown(to), tables: Object.fromEntries(result.tables.map((t) => [t.table, t.rows])), rows,
            audit: { ok: result.targetAudit.ok, records: result.targetAudit.count }, master_key_fingerprint: fingerprint,
            previous_master_key_fingerprint: previousFingerprint,
            sealed_records: keys ? { current_key: underCurrent, previous_key: previous ? underPrevious : null, no_key_given: unopened } : null,
          });
        }
        const w = (s: string) => ctx.out.write(`${s}\n`);
        w(`copied ${rows} rows in ${result.tables.length} tables from ${shown(from)} to ${shown(to)}; every table's row count matches`);
        w(result.targetAudit.ok ? `audit chain intact on the copy: ${result.targetAudit.count} records${result.targetAudit.sealsChecked ? "" : " (links and hashes; its seals need the master key)"}`
          : `the audit chain was already broken on the source (${result.sourceAudit.brokenAt?.reason ?? "broken"}); copied as it was`);
        w("to switch over: stop every server on the old database, then start them with LATCHKEY_DATABASE_URL set to the target");
        w(`  LATCHKEY_DATABASE_URL=${isPostgres(to) ? shown(to) : `sqlite:${sqlitePath(to)}`}${isPostgres(to) && shown(to) !== to ? " (with the credentials given to --to)" : ""}`);
        if (!fingerprint) w("(no master key was found here: start the servers with the master key the source's credentials are sealed under)");
        else if (previous && underPrevious > 0) {
          w(`and the same two master keys: LATCHKEY_MASTER_KEY (fingerprint ${fingerprint}) and LATCHKEY_MASTER_KEY_PREVIOUS (fingerprint ${previousFingerprint}), `
            + `which still seals ${underPrevious} of the ${underCurrent + underPrevious + unopened} sealed records copied as they were`);
          w("  the rotation finishes on the target as it would have on the source: rotate-master with both keys and LATCHKEY_DATABASE_URL set to the target");
        } else {
          w(`and the same master key (fingerprint ${fingerprint}, from LATCHKEY_MASTER_KEY or ${join(config.dataDir, "master.key")}): the credentials are copied sealed under it`);
          if (previous) w("  every sealed record opens with it: LATCHKEY_MASTER_KEY_PREVIOUS is not needed on the target");
        }
        if (unopened > 0) {
          w(`! ${unopened} sealed record${unopened === 1 ? "" : "s"} (credentials, webhook secrets) open${unopened === 1 ? "s" : ""} with no master key given here: `
            + "copied as they were; the servers need the key they were sealed under (LATCHKEY_MASTER_KEY_PREVIOUS during a rotation)");
        }
      } finally {
        for (const db of dbs) await db.close();
      }
    });
}
