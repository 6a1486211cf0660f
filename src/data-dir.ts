import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import type { Logger } from "pino";

const DB_SUFFIXES = ["", "-wal", "-shm", "-journal"];

/**
 * The data directory holds the database, the master key and the usage journal: 0700, tightened
 * (with a warning) when an existing one is looser. The SQLite file is created 0600 before SQLite
 * opens it, so its WAL and shared-memory files, which SQLite gives the database's mode, are 0600
 * too; existing ones are tightened.
 */
export function secureDataDir(dataDir: string, sqliteFile: string | null, logger: Logger): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(dataDir).mode & 0o777;
  if (mode & 0o077) {
    chmodSync(dataDir, 0o700);
    logger.warn({ dataDir, was: mode.toString(8) }, "the data directory was readable by others; tightened to 0700");
  }
  if (sqliteFile === null) return;
  if (!existsSync(sqliteFile)) closeSync(openSync(sqliteFile, "a", 0o600));
  for (const suffix of DB_SUFFIXES) {
    const file = sqliteFile + suffix;
    if (existsSync(file) && statSync(file).mode & 0o077) chmodSync(file, 0o600);
  }
}
