/**
 * The composition root: reads nothing itself but the config it is given, picks the backends,
 * builds every service once and hands them to the HTTP layer. Only this file chooses backends.
 */
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { secureDataDir } from "./data-dir.js";
import { fileURLToPath } from "node:url";
import type { Server } from "node:http";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { ROUTES, bootstrap, ensureOwnerSetupLink, sessionAuthenticator, type AdminServices, type BootstrapResult } from "./admin/index.js";
import type { Config } from "./config/index.js";
import { bindServer, buildHttpServer, serveMetrics } from "./http/index.js";
import { KeyService, KeyVerifier, MemoryFailureCounts, RedisFailureCounts, type KeyPrefixes } from "./keys/index.js";
import { systemClock, type Clock } from "./lib/index.js";
import { OutboundPolicy } from "./lib/outbound.js";
import { countEncryptedRecords, createStore, masterKeyOpens, migrate, openDatabase, ping, WorkerUsageWriter, type Database, type Store, type UsageEvent } from "./store/index.js";
import { createAccessLogger, createLogger, stderrDestination } from "./logger.js";
import { loadMasterKey, loadPreviousMasterKey, MasterKeyError } from "./master-key.js";
import { RedisInvalidationBus } from "./invalidation.js";
import { createRedactor } from "./leaks/index.js";
import { createGateway, DurableLeases, LimitsAdmission, recoverJournal, RedisReasoningKeep, type Gateway } from "./gateway/index.js";
import { CredentialVault, ModelCatalog } from "./providers/index.js";
import { createLimits, createLimitsRedis, redisReady, type Limits } from "./limits/index.js";
import { AlertService, WebhookDispatcher, WebhookService } from "./alerts/index.js";
import { UsageMetrics, UsageRollupJob } from "./usage/index.js";
import { OperatorMetrics, createRequestTracer } from "./telemetry/index.js";

/** The package root: where package.json is, from src/ (tests) or dist/src/ (built). */
const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
  /** Where log lines go (default stderr); tests capture them to prove no secret is logged. */
  logDestination?: { write(line: string): unknown };
  /** Skip the first-run bootstrap (tests that build their own organization). */
  skipBootstrap?: boolean;
}

export interface App {
  config: Config;
  services: AdminServices;
  database: Database;
  store: Store;
  bootstrap: BootstrapResult | null;
  server: Server;
  /** The limit counters (for operators' tooling and tests: snapshots of spend and reservations). */
  limits: Limits;
  /** The gateway (for tests: its upstream pool shares in use). */
  gateway: Gateway;
  /** The base URL (the port is bound when createApp begins, before anything is created). */
  listen(): Promise<string>;
  url(): string;
  /** The separate metrics listener's base URL (LATCHKEY_METRICS_PORT), or null when there is none. */
  metricsUrl(): string | null;
  /** Stops accepting, finishes in-flight work (cut after `graceMs`), flushes usage, closes the store. */
  close(graceMs?: number): Promise<void>;
}

export function databaseUrl(config: Config): string {
  return config.databaseUrl ?? join(config.dataDir, "latchkey.db");
}

export function keyPrefixes(config: Config): KeyPrefixes {
  return { live: config.keyPrefixLive, test: config.keyPrefixTest, publishable: config.keyPrefixPublishable, admin: config.keyPrefixAdmin };
}

/**
 * Builds and starts a whole Latchkey. The port is bound first: on a busy port nothing is created
 * (no data directory, database, master key, organization or keys).
 */
export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const bound = await bindServer({ host: config.host, port: config.port, tlsCertFile: config.tlsCertFile, tlsKeyFile: config.tlsKeyFile, keepAliveTimeoutMs: config.keepAliveTimeoutMs });
  let metricsBound: { server: Server; url: string } | null = null;
  try {
    // Plain HTTP even when the main port speaks TLS: it serves a scraper on a private network.
    if (config.metricsPort !== undefined) metricsBound = await bindServer({ host: config.host, port: config.metricsPort });
    return await buildApp(config, opts, bound.server, bound.url, metricsBound);
  } catch (err) {
    bound.server.close();
    metricsBound?.server.close();
    throw err;
  }
}

async function buildApp(config: Config, opts: AppOptions, server: Server, baseUrl: string, metricsBound: { server: Server; url: string } | null): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const prefixes = keyPrefixes(config);
  const scrub = createRedactor(Object.values(prefixes));
  const destination = opts.logDestination ?? stderrDestination();
  const logger = opts.logger ?? createLogger(config.logLevel, scrub, destination);
  const accessLogger = opts.logger ?? createAccessLogger(config.logLevel, scrub, destination);
  const url = databaseUrl(config);
  secureDataDir(config.dataDir, /^postgres(ql)?:/.test(url) || url === ":memory:" ? null : url, logger);
  const database = openDatabase({ url: databaseUrl(config), statementTimeoutMs: config.statementTimeoutMs });
  await migrate(database);
  const masterKey = loadMasterKey(config.masterKey, config.dataDir, await countEncryptedRecords(database));
  // Rolling to a new master key: the one it replaces still opens records until `rotate-master` re-wraps them.
  const previousKey = loadPreviousMasterKey(config.masterKeyPrevious, masterKey.key);
  const masterKeys: Buffer[] = previousKey ? [masterKey.key, previousKey] : [masterKey.key];
  // A wrong key (a restored database with another server's key) is named now, not as a 500 per request.
  if ((await masterKeyOpens(database, masterKeys)) === -1) {
    throw new MasterKeyError(`the master key from ${masterKey.source}${previousKey ? " (nor LATCHKEY_MASTER_KEY_PREVIOUS)" : ""} does not open the stored provider credentials: `
      + "start with the master key this database was written with (a backup records its fingerprint)");
  }
  // On a SQLite file usage is written and rolled up by a thread with its own connection: there
  // every statement blocks the thread that runs it, and batches and roll-ups stalled the gateway.
  const usageThread = database.dialect === "sqlite" && database.location !== ":memory:";
  const store = createStore(database, {
    masterKey: masterKeys,
    ...(usageThread ? { usageWriter: ({ usage }) => new WorkerUsageWriter({
      file: database.location, statementTimeoutMs: config.statementTimeoutMs, usage, logger, mainConnection: database.sqlite,
    }) } : {}),
  });
  const redis = config.redisUrl ? createLimitsRedis(config.redisUrl) : null;
  const bus = redis ? new RedisInvalidationBus(redis, logger, config.redisPrefix) : null;
  const verifier = new KeyVerifier({
    store, clock, prefixes, pepper: config.pepper, staleMs: config.keyCacheStaleSeconds * 1000,
    onInvalidate: bus ? (m) => bus.publish(m) : undefined,
  });
  const keys = new KeyService(store, clock, prefixes, verifier, config.pepper);
  const webhooks = new WebhookService(store, clock, masterKeys);
  // Credentials stored before leak fingerprints existed get theirs now, once, with the master key at hand.
  const fingerprinted = await store.credentialFingerprints.backfill(masterKeys);
  if (fingerprinted > 0) logger.info({ credentials: fingerprinted }, "leak fingerprints written for existing provider credentials");
  const alerts = new AlertService({ store, clock, webhooks });
  // Every connection made on a user's say-so (webhooks, credential probes) goes through this agent.
  const outboundPolicy = new OutboundPolicy(config.allowPrivateUpstreams);
  const outbound = { policy: outboundPolicy, agent: outboundPolicy.agent({ timeout: config.upstreamConnectTimeoutMs }) };
  const webhookDispatcher = new WebhookDispatcher({ store, clock, webhooks, logger, dispatcher: outbound.agent });
  const usageRollups = new UsageRollupJob({ store, clock, retentionDays: config.usageRetentionDays });
  const catalog = new ModelCatalog(store, { patterns: config.modelPatterns, onChange: bus ? () => bus.publish({ catalog: true }) : undefined });
  await catalog.load(clock.now());
  const credentialVault = new CredentialVault(store, masterKeys, {
    onUnopened: (orgId, credentialId) => logger.warn({ orgId, credentialId },
      "a provider credential opens with none of this node's master keys (sealed under a newer one?): left out until this node has that key"),
    now: () => clock.now(), staleMs: config.keyCacheStaleSeconds * 1000, onInvalidate: bus ? () => bus.publish({ credentials: true }) : undefined,
    onStale: (orgId, err) => logger.warn({ orgId, err: (err as Error).message }, "the store cannot be reached: provider credentials served from the stale cache"),
  });
  let admission: LimitsAdmission | null = null;
  const orgSettingsCache = { invalidate: (orgId?: string) => admission?.invalidate(orgId) };
  bus?.start({ verifier, catalog, vault: credentialVault, orgSettings: orgSettingsCache });
  const services: AdminServices = { config, clock, logger, store, verifier, keys, prefixes, alerts, webhooks, webhookDispatcher, usageRollups, masterKey: masterKeys, catalog, credentialVault, outbound };
  services.failureCounts = redis ? new RedisFailureCounts(redis, config.redisPrefix) : new MemoryFailureCounts();
  if (redis && !(await redisReady(redis))) logger.warn("Redis does not answer yet; limits follow the failure policy until it does");
  const limits = createLimits({
    redis, prefix: config.redisPrefix, clock, nodeCount: config.nodeCount, reservationLeaseMs: config.reservationLeaseSeconds * 1000,
    failure: { spend: config.redisFailureSpend, rate: config.redisFailureRate },
    logger,
    onLeaseExpired: (expired) => admission?.recordExpiredLeases(expired),
  });
  // Several nodes: the reservation journal is in the database, where any node can settle a dead one's leases.
  const leases = redis ? new DurableLeases(store, logger) : undefined;
  admission = new LimitsAdmission(limits, store, () => clock.now(), {
    keyConcurrentRequests: config.keyConcurrentRequests, leases, leaseMs: config.reservationLeaseSeconds * 1000,
  });
  const orgSettings = admission;
  services.settingsChanges = {
    orgChanged: async (orgId) => {
      orgSettings.invalidate(orgId);
      await bus?.publish({ org: orgId });
    },
    creditsEnabled: async (orgId) => {
      await orgSettings.creditsEnabled(orgId);
      await bus?.publish({ org: orgId });
    },
    // The counter is shared over Redis, so other nodes see the new balance at once.
    creditsAdded: (orgId, amountNano, seq) => orgSettings.creditsAdded(orgId, amountNano, seq),
  };
  const registry = new Registry();
  const usageMetrics = new UsageMetrics(registry);
  const onUsageWritten = (batch: readonly UsageEvent[]) => {
    usageMetrics.observe(batch);
    alerts.noteUsage(batch, (err) => logger.warn({ err }, "alert evaluation failed"));
  };
  const tracer = await createRequestTracer({
    endpoint: config.otelExporterOtlpEndpoint, tracesEndpoint: config.otelExporterOtlpTracesEndpoint, exporter: config.otelTracesExporter,
    disabled: config.otelSdkDisabled, serviceName: config.otelServiceName,
  }, VERSION);
  // The gateway's backlog is read at scrape time, once the gateway exists.
  let backlog = () => ({ queued: 0, spoolBytes: 0 });
  const storeUp = () => ping(database);
  const metrics = new OperatorMetrics(registry, { version: VERSION }, {
    usageBacklog: () => backlog(), databaseUp: () => within(storeUp(), 1000, false),
    ...(redis ? { redisUp: () => limits.health() === "healthy", invalidationsSubscribed: () => bus?.subscription() === "subscribed" } : {}),
  });
  webhookDispatcher.onFailure(() => metrics.webhookFailed());
  services.metrics = () => metrics.render();
  if (metricsBound) serveMetrics(metricsBound.server, () => metrics.render());
  // What a killed process left in flight or unwritten is settled before this one serves.
  const usageJournalFile = join(config.dataDir, "usage-journal.jsonl");
  await recoverJournal(usageJournalFile, store, logger);
  if (leases) {
    leases.checkWith(limits.budgets);
    await leases.takeOver(join(config.dataDir, "lease-holder"));
  }
  const gateway = createGateway({ config, clock, logger, store, verifier, masterKey: masterKeys, catalog, vault: credentialVault, admission, failureCounts: services.failureCounts, onUsageWritten,
    reasoningKeep: redis ? new RedisReasoningKeep(redis, config.redisPrefix, () => clock.now()) : undefined,
    usageSpoolFile: join(config.dataDir, "usage-spool.jsonl"), usageJournalFile, metrics, tracer, accessLogger,
  });
  backlog = () => gateway.usageBacklog();
  admission.recordThrough((events) => gateway.recordUsage(events), onUsageWritten);

  const boot = opts.skipBootstrap ? null : await bootstrap(services);
  if (boot) boot.setupUrl = (await ensureOwnerSetupLink(services)) ?? undefined;
  const consoleDir = join(ROOT, "console", "dist");
  await buildHttpServer({
    server,
    services,
    routes: ROUTES,
    authenticators: [sessionAuthenticator(services)],
    gateway,
    version: VERSION,
    consoleDir: existsSync(consoleDir) ? consoleDir : undefined,
    health: {
      store: storeUp,
      writes: () => gateway.writeHealth(),
      ...(redis && bus ? {
        // Without Redis, rate limits fall back to local counters unless the policy fails closed.
        // "ok" once the limits use Redis again (their own probe), not merely once it answers a ping.
        redis: { ping: async () => limits.health() === "healthy" && (await redis.ping()) === "PONG", servesWithout: config.redisFailureRate !== "closed" },
        invalidations: () => bus.subscription(),
      } : {}),
    },
    observer: { logger: accessLogger, level: config.accessLogLevel, count: (method, route, status) => metrics.management(method, route, status) },
  });

  const timers = [
    setInterval(() => void verifier.flushLastUsed(), 5_000),
    ...(leases ? [setInterval(() => void leases.sweep(clock.now()).then((charged) => charged.length && onUsageWritten(charged)).catch((err: unknown) => logger.warn({ err }, "durable lease sweep failed")), 1_000)] : []),
    setInterval(() => void usageRollups.runOnce().catch((err: unknown) => logger.warn({ err }, "usage roll-up failed")), 15_000),
    setInterval(() => void usageRollups.purge().catch((err: unknown) => logger.warn({ err }, "usage purge failed")), 3_600_000),
  ];
  webhookDispatcher.start();
  for (const t of timers) t.unref();

  return {
    config, services, database, store, bootstrap: boot, server, limits, gateway,
    listen: () => Promise.resolve(baseUrl),
    url: () => baseUrl,
    metricsUrl: () => metricsBound?.url ?? null,
    close: async (graceMs = 30_000) => {
      for (const t of timers) clearInterval(t);
      // Stop accepting; requests and streams under way finish, up to the grace period.
      // Keep-alive connections that go idle once their last response is out are closed as they do.
      await new Promise<void>((ok) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearTimeout(cut);
          clearInterval(idle);
          ok();
        });
        server.closeIdleConnections();
      });
      if (metricsBound) {
        const m = metricsBound.server;
        await new Promise<void>((ok) => {
          m.close(() => ok());
          m.closeAllConnections();
        });
      }
      await verifier.flushLastUsed();
      await gateway.close();
      // The last usage batch may have queued an alert evaluation: it runs now, before the store closes.
      await alerts.drain((err) => logger.warn({ err }, "alert evaluation failed"));
      await webhookDispatcher.stop();
      await tracer?.shutdown().catch((err: unknown) => logger.warn({ err }, "could not send the last spans"));
      limits.close();
      bus?.close();
      redis?.disconnect();
      await outbound.agent.close().catch(() => undefined);
      // Usage was flushed with the gateway; its writer's connection closes before the store's.
      await store.usageWriter.close();
      await database.close();
    },
  };
}

/** `p`'s value, or `fallback` when it takes longer than `ms` (a probe must not hang a scrape). */
function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((ok) => (timer = setTimeout(ok, ms, fallback)))]).finally(() => clearTimeout(timer));
}
