import { newId, NANO_PER_USD } from "../src/lib/index.js";
import { createStore, migrate, openDatabase, WorkerUsageWriter, type Database, type Store, type UsageEvent } from "../src/store/index.js";
import type { BackendFactory, TestBackend } from "./support/backends.js";

const quiet = { error: () => undefined, info: () => undefined };

export const T0 = Date.UTC(2026, 0, 5); // a Monday

export interface MeteringFixture {
  database: Database;
  store: Store;
  orgId: string;
  ws: [string, string];
}

/**
 * The backends, and SQLite once more with usage written and rolled up by its own thread, as the
 * app does on a SQLite file (main.ts): suites of roll-ups and credits run on both writers.
 */
export function withUsageThread(all: BackendFactory[]): { b: BackendFactory; label: string; usageThread: boolean }[] {
  const out: { b: BackendFactory; label: string; usageThread: boolean }[] = all.map((b) => ({ b, label: b.name, usageThread: false }));
  const sqlite = all.find((b) => b.name === "sqlite");
  if (sqlite) out.push({ b: sqlite, label: "sqlite, usage thread", usageThread: true });
  return out;
}

export async function openFixture(backend: TestBackend, o: { usageThread?: boolean } = {}): Promise<MeteringFixture> {
  const database = openDatabase({ url: backend.url });
  await migrate(database);
  const thread = o.usageThread && backend.name === "sqlite";
  const store = createStore(database, thread ? {
    usageWriter: ({ usage }) => new WorkerUsageWriter({ file: backend.url, statementTimeoutMs: database.statementTimeoutMs, usage, logger: quiet }),
  } : {});
  if (thread) {
    // The fixture's owners close the database: the thread's connection closes first, as in the app.
    const close = database.close.bind(database);
    Object.assign(database, { close: async () => { await store.usageWriter.close(); await close(); } });
  }
  const orgId = newId("org");
  const ws: [string, string] = [newId("wrk"), newId("wrk")];
  await store.orgs.insertOrganization({ id: orgId, name: "Acme", rateLimits: null, spendLimit: null, settings: {}, createdAt: 1 });
  for (const id of ws) await store.orgs.insertWorkspace({ id, orgId, name: id, isDefault: false, allowedModels: null, rateLimits: null, spendLimit: null, archivedAt: null, createdAt: 1 });
  return { database, store, orgId, ws };
}

let seq = 0;
export function usageEvent(f: MeteringFixture, over: Partial<UsageEvent>): UsageEvent {
  seq += 1;
  return {
    id: `req_${String(seq).padStart(9, "0")}${Math.random().toString(36).slice(2, 18).padEnd(16, "0")}`, at: T0, orgId: f.orgId, workspaceId: f.ws[0], keyId: "key_a",
    provider: "anthropic", model: "claude-sonnet-4-5", endpoint: "/v1/messages", inputTokens: 100, outputTokens: 50, cacheWriteTokens: 10,
    cacheReadTokens: 5, costNano: 1000, status: 200, errorCode: null, streamed: false, aborted: false, latencyMs: 10, ttfbMs: 5, ...over,
  };
}

export const usd = (n: number) => n * NANO_PER_USD;
