import { readdirSync, readFileSync } from "node:fs";
import { sql } from "kysely";
import { join } from "node:path";
import { loadConfig } from "../../src/config/index.js";
import { createApp, type App } from "../../src/main.js";
import { backends, type TestBackend } from "./backends.js";
import { readUntil } from "./gateway-harness.js";
import { LOOPBACK_UPSTREAMS } from "./loopback.js";

export interface TestApp {
  app: App;
  url: string;
  adminKey: string;
  testKey: string;
  logs: string[];
  /** Calls the management API with the admin key (or another bearer). */
  api(method: string, path: string, body?: unknown, bearer?: string): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

/** Starts a whole Latchkey (store, HTTP, bootstrap) on a free loopback port over a test backend. */
export async function startApp(backend: TestBackend, overrides: Record<string, unknown> = {}): Promise<TestApp> {
  const logs: string[] = [];
  const config = loadConfig({ env: {}, overrides: { dataDir: backend.dataDir, databaseUrl: backend.url, port: 0, logLevel: "info", allowPrivateUpstreams: LOOPBACK_UPSTREAMS, ...overrides } });
  const app = await createApp(config, { logDestination: { write: (line: string) => logs.push(line) } });
  const url = await app.listen();
  const created = app.bootstrap?.created;
  if (!created) throw new Error("expected a first run");
  const api = async (method: string, path: string, body?: unknown, bearer = created.adminKey) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return { app, url, adminKey: created.adminKey, testKey: created.testKey, logs, api, close: () => app.close() };
}

/** A whole Latchkey on a fresh SQLite backend of its own; `close()` also removes the backend. */
export async function startSqliteApp(overrides: Record<string, unknown> = {}): Promise<TestApp> {
  const backend = await (await backends())[0]!.create();
  try {
    const t = await startApp(backend, overrides);
    return { ...t, close: async () => { await t.close(); await backend.cleanup(); } };
  } catch (err) {
    await backend.cleanup();
    throw err;
  }
}

/** Everything the database holds, as text: the SQLite files' bytes, or every PostgreSQL row. */
export async function databaseText(t: TestApp, backend: TestBackend): Promise<string> {
  if (backend.name === "sqlite") {
    return readdirSync(backend.dataDir).filter((f) => f.startsWith("latchkey.db"))
      .map((f) => readFileSync(join(backend.dataDir, f)).toString("latin1")).join("\n");
  }
  // Every table of this suite's schema, so a table added later is covered without editing this.
  const db = t.app.database.db;
  const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(db);
  let text = "";
  for (const { name } of tables.rows) text += JSON.stringify((await sql`select * from ${sql.table(name)}`.execute(db)).rows);
  return text;
}

/**
 * What a key or a workspace spent, read once the usage rows of `served` answers (status 200) are
 * written, and how many there were. The recorder writes every 100 ms through the usage thread,
 * which a loaded machine holds up past any fixed wait; a total read too early would pass a
 * limit's check without proving it.
 */
export async function spentOnceWritten(t: TestApp, column: "key_id" | "workspace_id", id: string, served: number): Promise<{ served: number; spent: number }> {
  const rows = await readUntil(() => t.app.database.db.selectFrom("usage_events").select(["cost_nano", "status"]).where(column, "=", id).execute(),
    (rs) => rs.filter((r) => r.status === 200).length >= served);
  return { served: rows.filter((r) => r.status === 200).length, spent: rows.reduce((s, r) => s + Number(r.cost_nano), 0) };
}
