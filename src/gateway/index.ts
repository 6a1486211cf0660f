import type { MasterKeys } from "../lib/envelope.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import { isDependencyFailure } from "../errors/index.js";
import type { FailureCounts, KeyVerifier } from "../keys/index.js";
import type { Clock } from "../lib/index.js";
import { CredentialVault, ModelCatalog } from "../providers/index.js";
import type { Store, UsageEvent } from "../store/index.js";
import { NoAdmission, type Admission } from "./admission.js";
import { GatewayCore } from "./core.js";
import { handleRequest } from "./handler.js";
import { NoJournal, UsageJournal } from "./journal.js";
import { UsageRecorder } from "./recorder.js";
import { guessDialect } from "./routes.js";
import { sendError } from "./respond.js";
import { newId } from "../lib/index.js";
import type { OperatorMetrics, RequestTracer } from "../telemetry/index.js";
import { RequestObserver } from "./observe.js";
import type { ReasoningKeep } from "./reasoning-keep.js";

export type { Admission, AdmissionDecision, AdmissionRequest, AdmissionSettlement } from "./admission.js";
export { allowsModel } from "./model-access.js";
export { LimitsAdmission, type LimitsAdmissionOptions } from "./limits-admission.js";
export { DurableLeases } from "./durable-leases.js";
export { recoverJournal } from "./journal.js";
export { MemoryReasoningKeep, RedisReasoningKeep, type ReasoningKeep } from "./reasoning-keep.js";

export interface GatewayDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: Store;
  verifier: KeyVerifier;
  /** Unwraps provider credentials: the current master key, and the one it replaces while nodes roll. */
  masterKey: MasterKeys;
  /** The model catalog, shared with the management API so edits reach the gateway; built and loaded here when absent. */
  catalog?: ModelCatalog;
  /** Decrypted credentials cache, shared with the management API (which invalidates it); built here when absent. */
  vault?: CredentialVault;
  /** Rate limits, budget reservations and credits (DESIGN.md request path steps 3, 4 and 7). */
  admission?: Admission;
  /** Failed-authentication counts shared by every node (Redis); per node when absent. */
  failureCounts?: FailureCounts;
  /** Signed thinking kept for Chat callers, shared by every node (Redis); per node when absent. */
  reasoningKeep?: ReasoningKeep;
  /** Milliseconds between tokens of the built-in simulator's streams (default 0). */
  simulatorPaceMs?: number;
  /** How often usage events are written (default 100 ms). */
  usageFlushMs?: number;
  /** Told of each batch of usage events once it is written (alerts, metrics). */
  onUsageWritten?: (batch: readonly UsageEvent[]) => void;
  /** Where usage waits, on disk, while the database is unreachable. */
  usageSpoolFile?: string;
  /** The usage journal (journal.ts), recovered by the caller before the gateway is built; none: no journal. */
  usageJournalFile?: string;
  /** The operator's Prometheus series (outcomes, timings, upstream errors); none when absent. */
  metrics?: OperatorMetrics;
  /** Spans for finished requests, when tracing is configured. */
  tracer?: RequestTracer | null;
  /** Where access log lines go (default: `logger`). */
  accessLogger?: Logger;
}

export interface Gateway {
  /** Answers a request under /v1/ or /v1beta/. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Loads the catalog (done on first request otherwise). */
  ready(): Promise<void>;
  /** Writes pending usage events. */
  flush(): Promise<void>;
  /** "ok", or why usage cannot be written (a full disk shows here with its real cause). */
  writeHealth(): string;
  /** Records usage made outside a request (lease-expiry charges): batched, spooled on failure, seen by alerts. */
  recordUsage(events: readonly UsageEvent[]): void;
  /** Writes pending usage, closes upstream pools and the built-in simulator. */
  close(): Promise<void>;
  readonly catalog: ModelCatalog;
  readonly vault: CredentialVault;
  /** Requests holding a share of an upstream pool (fair-share.ts): none once every request has ended. */
  upstreamSharesInUse(): number;
  /** Usage events waiting in memory and bytes in the spool (for the metrics). */
  usageBacklog(): { queued: number; spoolBytes: number };
}

export function createGateway(deps: GatewayDeps): Gateway {
  const catalog = deps.catalog ?? new ModelCatalog(deps.store, { patterns: deps.config.modelPatterns });
  const vault = deps.vault ?? new CredentialVault(deps.store, deps.masterKey, { now: () => deps.clock.now(), staleMs: deps.config.keyCacheStaleSeconds * 1000 });
  const journal = deps.usageJournalFile ? new UsageJournal(deps.usageJournalFile, deps.logger) : new NoJournal();
  const recorder = new UsageRecorder(deps.store, deps.logger, { intervalMs: deps.usageFlushMs, onWritten: deps.onUsageWritten, spoolFile: deps.usageSpoolFile, journal });
  const c = deps.config;
  const core = new GatewayCore(c, deps.clock, deps.logger, deps.store, deps.verifier, catalog, vault, recorder, deps.admission ?? new NoAdmission(), {
    connectMs: c.upstreamConnectTimeoutMs, firstByteMs: c.upstreamFirstByteTimeoutMs, idleMs: c.upstreamIdleTimeoutMs,
    maxAttempts: c.upstreamMaxAttempts, maxRetryAfterMs: 10_000,
  }, deps.simulatorPaceMs ?? 0, new RequestObserver(deps.accessLogger ?? deps.logger, c.accessLogLevel, deps.metrics ?? null, deps.tracer ?? null), deps.failureCounts, deps.reasoningKeep);
  let loading: Promise<void> | null = deps.catalog ? null : catalog.load(deps.clock.now());
  if (loading) loading.catch(() => undefined);
  const ready = async () => {
    if (loading) await loading;
    loading = null;
  };

  /**
   * The catalog could not be loaded before a request's turn, or answering a failure failed in
   * turn (handleRequest answers its own failures, under the request's id and with its record):
   * a 503 or 500 under an id made here, or a cut connection.
   */
  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    deps.logger.error({ err, path: (req.url ?? "").split("?")[0] }, "gateway request failed");
    const path = req.url ?? "/";
    const dialect = guessDialect(path, req.headers["anthropic-version"] !== undefined || req.headers["x-api-key"] !== undefined);
    const unavailable = isDependencyFailure(err);
    const message = unavailable ? "A service the gateway depends on is unavailable; try again shortly." : "The gateway failed to handle the request.";
    const requestId = newId("req");
    const midway = res.headersSent;
    const status = midway ? 500 : sendError(res, dialect, unavailable ? "store_unavailable" : "internal", message, requestId);
    if (midway) res.destroy();
    core.observer.finished({
      id: requestId, at: deps.clock.now(), provider: "none", model: "unknown", endpoint: "unknown", inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0,
      cacheReadTokens: 0, costNano: 0, status, errorCode: unavailable ? "store_unavailable" : "internal", streamed: false, latencyMs: 0, ttfbMs: null,
    }, { keyName: null, upstreamStatus: null, attempts: 0, deployment: null, refusal: null, traceparent: undefined, tracestate: undefined });
  }

  return {
    handle(req, res) {
      if (loading) {
        ready().then(() => handleRequest(core, req, res)).catch((err: unknown) => fail(req, res, err));
        return;
      }
      handleRequest(core, req, res).catch((err: unknown) => fail(req, res, err));
    },
    ready,
    flush: () => recorder.flush(),
    writeHealth: () => recorder.writeHealth(),
    recordUsage: (events) => {
      for (const e of events) recorder.record(e);
    },
    async close() {
      // Upstream pools first: a request still finishing there records its usage before the last flush.
      await core.close();
      await recorder.flush().catch(() => undefined);
      recorder.stop();
      journal.close();
    },
    catalog,
    vault,
    upstreamSharesInUse: () => core.fairShare.inUse(),
    usageBacklog: () => recorder.backlog(),
  };
}
