import { PostgresAdapter, type Kysely } from "kysely";

/** For the few column types that differ between SQLite and PostgreSQL (auto-increment keys). */
export function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
