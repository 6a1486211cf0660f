/**
 * A gateway on loopback for the gateway and SDK suites: a real store (SQLite), real key
 * verification, the real gateway, and the simulator as a standalone upstream. Nothing is mocked.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { configSchema, type ConfigInput } from "../../src/config/index.js";
import { createGateway, type Admission, type Gateway } from "../../src/gateway/index.js";
import { generateMasterKey } from "../../src/lib/envelope.js";
import { newId, systemClock } from "../../src/lib/index.js";
import { DEFAULT_KEY_PREFIXES, KeyService, KeyVerifier, type KeySettings } from "../../src/keys/index.js";
import { createSimulatorServer, type CloudIdentities, type SimulatorServer } from "../../src/providers/index.js";
import { LOOPBACK_UPSTREAMS } from "./loopback.js";
import { createStore, migrate, openDatabase, type CredentialModel, type Database, type Store, type UsageEvent } from "../../src/store/index.js";

export interface Harness {
  url: string;
  sim: SimulatorServer;
  store: Store;
  database: Database;
  dbFile: string;
  gateway: Gateway;
  orgId: string;
  workspaceId: string;
  masterKey: Buffer;
  logs: string[];
  /** A key in the harness's organization, or in `orgId` (its workspace given in `s`). */
  issueKey(s?: Partial<KeySettings>, orgId?: string): Promise<string>;
  addCredential(provider: string, secret: string, o?: CredentialOptions): Promise<string>;
  /** Flushes and returns every usage event, oldest first. */
  usage(): Promise<UsageEvent[]>;
  close(): Promise<void>;
}

export interface CredentialOptions {
  baseUrl?: string | null;
  weight?: number;
  workspaceId?: string | null;
  settings?: Record<string, string>;
  models?: CredentialModel[];
  priority?: number;
}

export interface HarnessOptions {
  config?: Partial<ConfigInput>;
  /** Credentials the simulated clouds accept (Bedrock, Vertex AI, Azure OpenAI). */
  clouds?: CloudIdentities;
  admission?: Admission;
  paceMs?: number;
  simulatorPaceMs?: number;
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const sim = await createSimulatorServer({ paceMs: o.paceMs ?? 0, clouds: o.clouds });
  const dir = mkdtempSync(join(tmpdir(), "latchkey-gw-"));
  const dbFile = join(dir, "latchkey.db");
  const database = openDatabase({ url: dbFile });
  await migrate(database);
  const masterKey = generateMasterKey();
  const store = createStore(database, { masterKey });
  const clock = systemClock;
  const orgId = newId("org");
  const workspaceId = newId("wrk");
  await store.orgs.insertOrganization({ id: orgId, name: "Test", rateLimits: null, spendLimit: null, settings: {}, createdAt: clock.now() });
  await store.orgs.insertWorkspace({ id: workspaceId, orgId, name: "Default", isDefault: true, allowedModels: null, rateLimits: null, spendLimit: null, archivedAt: null, createdAt: clock.now() });
  const config = configSchema.parse({ dataDir: dir, upstreamMaxAttempts: 3, allowPrivateUpstreams: LOOPBACK_UPSTREAMS, ...o.config });
  const verifier = new KeyVerifier({ store, clock, prefixes: DEFAULT_KEY_PREFIXES, refreshMs: 0 });
  const keys = new KeyService(store, clock, DEFAULT_KEY_PREFIXES, verifier);
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
  const logger = pino({ level: "debug" }, sink);
  const gateway = createGateway({ config, clock, logger, store, verifier, masterKey, admission: o.admission, simulatorPaceMs: o.simulatorPaceMs ?? 0, usageFlushMs: 20 });
  await gateway.ready();
  const server: Server = createServer((req, res) => gateway.handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const actor = { id: "system", orgId, requestId: null, clientIp: null };
  return {
    url, sim, store, database, dbFile, gateway, orgId, workspaceId, masterKey, logs,
    async issueKey(s = {}, inOrg = orgId) {
      const issued = await keys.issue({ name: "test key", workspaceId, kind: "live", ...s }, { ...actor, orgId: inOrg });
      return issued.plaintext;
    },
    async addCredential(provider, secret, c = {}) {
      const id = newId("cred");
      await store.credentials.insert({
        id, orgId, workspaceId: c.workspaceId ?? null, provider, name: `${provider} ${id.slice(-4)}`, secret,
        baseUrl: c.baseUrl === undefined ? (provider === "openai" || provider === "openai-compatible" ? `${sim.url}/v1` : sim.url) : c.baseUrl,
        weight: c.weight ?? 1, settings: c.settings, models: c.models, priority: c.priority, createdAt: clock.now(), createdBy: "system",
      }, masterKey);
      gateway.vault.invalidate();
      return id;
    },
    async usage() {
      await gateway.flush();
      const rows = await database.db.selectFrom("usage_events").selectAll().orderBy("at").execute();
      const { fromRow } = await import("../../src/store/usage.js");
      return rows.map(fromRow);
    },
    async close() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await gateway.close();
      await sim.close();
      await database.close();
    },
  };
}

/** Reads until `done` holds or the time runs out; returns the last read either way, for the caller to assert on. */
export async function readUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `check` holds (polling), for effects that land after a response ends. */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 3000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
