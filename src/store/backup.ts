import { existsSync, renameSync, rmSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";

/** Where a backup records the fingerprint of the master key its credentials are sealed under. */
export const BACKUP_FINGERPRINT_KEY = "backup.master_key_fingerprint";
export const BACKUP_TAKEN_AT_KEY = "backup.taken_at";

export interface BackupInfo { fingerprint: string | null; takenAt: number | null; keys: number; usageEvents: number; credentials: number }

/**
 * Copies a live SQLite database with SQLite's online backup API: a consistent snapshot that
 * includes what is still in the write-ahead log (a plain file copy of a WAL database misses it),
 * taken while the server keeps writing. The master key's fingerprint is written into the copy.
 */
export async function backupSqlite(source: string, dest: string, fingerprint: string | null, now = Date.now()): Promise<BackupInfo> {
  if (existsSync(dest)) throw new Error(`${dest} exists; choose a new file name`);
  const db = new BetterSqlite3(source, { fileMustExist: true });
  db.pragma("busy_timeout = 5000");
  const partial = `${dest}.partial`;
  try {
    await db.backup(partial);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    db.close();
  }
  const copy = new BetterSqlite3(partial);
  try {
    // The copy is a standalone file: no WAL beside it.
    copy.pragma("journal_mode = DELETE");
    const put = copy.prepare("insert into kv (key, value, updated_at) values (?, ?, ?) on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at");
    if (fingerprint) put.run(BACKUP_FINGERPRINT_KEY, fingerprint, now);
    put.run(BACKUP_TAKEN_AT_KEY, String(now), now);
  } finally {
    copy.close();
  }
  renameSync(partial, dest);
  return readBackupInfo(dest);
}

export function readBackupInfo(file: string): BackupInfo {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const kv = (k: string) => (db.prepare("select value from kv where key = ?").get(k) as { value: string } | undefined)?.value ?? null;
    const count = (t: string) => (db.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n;
    const takenAt = kv(BACKUP_TAKEN_AT_KEY);
    return { fingerprint: kv(BACKUP_FINGERPRINT_KEY), takenAt: takenAt ? Number(takenAt) : null, keys: count("api_keys"), usageEvents: count("usage_events"), credentials: count("provider_credentials") };
  } finally {
    db.close();
  }
}

/** Writes a backup into place as the database at `dest` (the server must be stopped), dropping the backup's own markers. */
export async function restoreSqlite(backup: string, dest: string): Promise<void> {
  const src = new BetterSqlite3(backup, { readonly: true, fileMustExist: true });
  const partial = `${dest}.restoring`;
  rmSync(partial, { force: true });
  try {
    await src.backup(partial);
  } finally {
    src.close();
  }
  const db = new BetterSqlite3(partial);
  try {
    db.prepare("delete from kv where key in (?, ?)").run(BACKUP_FINGERPRINT_KEY, BACKUP_TAKEN_AT_KEY);
  } finally {
    db.close();
  }
  // The old database's log and shared memory belong to the old file; left beside the new one they would be replayed into it.
  for (const f of [`${dest}-wal`, `${dest}-shm`]) rmSync(f, { force: true });
  renameSync(partial, dest);
}

/**
 * Whether another process has the SQLite database open (a running server): an exclusive lock
 * cannot be taken while any other connection holds the write-ahead log's shared memory.
 */
export function sqliteInUse(file: string): boolean {
  if (!existsSync(file)) return false;
  const db = new BetterSqlite3(file, { fileMustExist: true, timeout: 0 });
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("begin exclusive");
    db.exec("commit");
    return false;
  } catch (err) {
    if ((err as { code?: string }).code === "SQLITE_BUSY" || (err as { code?: string }).code === "SQLITE_LOCKED") return true;
    throw err;
  } finally {
    db.close();
  }
}
