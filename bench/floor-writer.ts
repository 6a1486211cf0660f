/**
 * The floor gateway's usage thread (floor-gateway.ts): its own connection to a SQLite file in WAL
 * mode, a table with usage_events' columns and indexes, and each batch (a flat array of rows'
 * values) inserted in one transaction, as Latchkey's usage thread does.
 */
import Database from "better-sqlite3";
import { parentPort, workerData } from "node:worker_threads";

const COLUMNS = ["id", "at", "org_id", "workspace_id", "key_id", "provider", "model", "endpoint", "input_tokens", "output_tokens", "cache_write_tokens",
  "cache_read_tokens", "cost_nano", "status", "error_code", "streamed", "aborted", "latency_ms", "ttfb_ms"];
const db = new Database((workerData as { file: string }).file);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.exec(`create table if not exists usage_events (${COLUMNS.map((c, i) => (i === 0 ? `${c} text primary key` : c)).join(", ")}, rolled_at integer)`);
db.exec(`create index if not exists usage_events_key_at on usage_events (key_id, at);
  create index if not exists usage_events_workspace_at on usage_events (workspace_id, at);
  create index if not exists usage_events_at on usage_events (at);
  create index if not exists usage_events_unrolled on usage_events (at) where rolled_at is null`);
const insert = db.prepare(`insert or ignore into usage_events (${COLUMNS.join(", ")}) values (${COLUMNS.map(() => "?").join(", ")})`);
const write = db.transaction((values: unknown[]) => {
  for (let i = 0; i < values.length; i += COLUMNS.length) insert.run(values.slice(i, i + COLUMNS.length));
});
parentPort!.on("message", (values: unknown[]) => write(values));
