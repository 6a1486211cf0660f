import type { Logger } from "pino";
import { Pool, type Dispatcher } from "undici";
import type { Config } from "../config/index.js";
import type { KeyVerifier } from "../keys/index.js";
import { compileTrust, type Clock, type TrustFn } from "../lib/index.js";
import { OutboundPolicy } from "../lib/outbound.js";
import {
  createSimulatorServer, CredentialLinks, DeploymentHealth, TEST_KEY_CAPS, type CredentialVault, type ModelCatalog, type SimulatorServer,
} from "../providers/index.js";
import type { Store, UsageEvent } from "../store/index.js";
import type { Admission, AdmissionSettlement } from "./admission.js";
import type { Plan } from "./plan.js";
import type { UsageRecorder } from "./recorder.js";
import type { JournalWaiter } from "./journal.js";
import { CorsPolicy } from "./cors.js";
import { FairShare } from "./fair-share.js";
import type { RequestDetail, RequestObserver } from "./observe.js";
import { AuthFailureLimiter, type FailureCounts } from "../keys/index.js";
import { UnpricedRules } from "./unpriced.js";
import { MemoryReasoningKeep, type ReasoningKeep } from "./reasoning-keep.js";

export interface Timeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
  maxAttempts: number;
  /** A retry-after longer than this is not waited for: the error goes to the caller. */
  maxRetryAfterMs: number;
}

/** Long-lived parts the request path shares: built once by createGateway. */
export class GatewayCore {
  private readonly pools = new Map<string, Pool>();
  private simulator: SimulatorServer | null = null;
  private simulatorStarting: Promise<SimulatorServer> | null = null;
  readonly cors: CorsPolicy;
  /** Each key's share of each upstream pool. */
  readonly fairShare: FairShare;
  /** Organizations' rules for models with no price (read only when such a model is asked for). */
  readonly unpriced: UnpricedRules;
  /** Which peers' X-Forwarded-For is believed (compiled once from the setting). */
  readonly proxyTrust: TrustFn | null;
  /** Failed authentication per client IP: guessing keys is slow. */
  readonly authFailures: AuthFailureLimiter;
  /** Deployments resting after failures (per node). */
  readonly health: DeploymentHealth;
  /** Signers and tokens per credential, kept across requests; their token calls go through `tokenAgent`. */
  readonly links: CredentialLinks;
  /** The outbound policy's agent for the links' own calls (token endpoints). */
  private readonly tokenAgent: Dispatcher;
  /** Which addresses upstream connections may reach (LATCHKEY_ALLOW_PRIVATE_UPSTREAMS widens it). */
  readonly outbound: OutboundPolicy;
  /** Anthropic's signed thinking of Chat callers' tool-calling turns (reasoning-keep.ts). */
  readonly reasoning: ReasoningKeep;

  constructor(
    readonly config: Config,
    readonly clock: Clock,
    readonly logger: Logger,
    readonly store: Store,
    readonly verifier: KeyVerifier,
    readonly catalog: ModelCatalog,
    readonly vault: CredentialVault,
    readonly recorder: UsageRecorder,
    readonly admission: Admission,
    readonly timeouts: Timeouts,
    private readonly simulatorPaceMs: number,
    readonly observer: RequestObserver,
    failureCounts?: FailureCounts,
    reasoning?: ReasoningKeep,
  ) {
    this.reasoning = reasoning ?? new MemoryReasoningKeep(() => clock.now());
    this.authFailures = new AuthFailureLimiter(30, 100_000, failureCounts);
    this.cors = new CorsPolicy(store, () => clock.now());
    this.fairShare = new FairShare(config.upstreamKeyShare, config.upstreamQueueTimeoutMs);
    this.unpriced = new UnpricedRules(store, () => clock.now());
    this.proxyTrust = compileTrust(config.trustProxy);
    this.health = new DeploymentHealth(() => clock.now());
    this.outbound = new OutboundPolicy(config.allowPrivateUpstreams);
    this.tokenAgent = this.outbound.agent({ timeout: timeouts.connectMs });
    this.links = new CredentialLinks(this.tokenAgent);
  }

  /**
   * The keep-alive pool for an upstream origin (one per origin, made on first use). Its connections
   * go only where the outbound policy allows, each pinned to the address its lookup checked; the
   * built-in simulator, on loopback by design, is the one origin exempt.
   */
  pool(origin: string): Pool {
    let p = this.pools.get(origin);
    if (!p) {
      const own = this.simulator !== null && origin === new URL(this.simulator.url).origin;
      const connect = own ? { timeout: this.timeouts.connectMs } : this.outbound.connector({ timeout: this.timeouts.connectMs });
      p = new Pool(origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000, connect });
      this.pools.set(origin, p);
    }
    return p;
  }

  /** The built-in simulator's base URL (started on loopback on first use; serves test keys). */
  simulatorUrl(): string | Promise<string> {
    if (this.simulator) return this.simulator.url;
    this.simulatorStarting ??= createSimulatorServer({ port: 0, paceMs: this.simulatorPaceMs, caps: TEST_KEY_CAPS }).then((s) => (this.simulator = s));
    return this.simulatorStarting.then((s) => s.url);
  }

  /**
   * Hands a finished request's usage to the recorder and the limits, and tells the observer (access
   * log, metrics, trace). A waiter is told once the usage is journaled: later, when the journal
   * group-commits it, else at the end of this call.
   */
  record(e: UsageEvent, plan: (Pick<Plan, "admission" | "ticket" | "fairSlot"> & Partial<Pick<Plan, "journal">>) | null, s: AdmissionSettlement | null, d: RequestDetail, waiter?: JournalWaiter): void {
    const settle = plan && s ? () => this.settle(e.id, plan, s) : null;
    // The counters are settled only once the event is in the journal: a process killed in between
    // would otherwise leave counters that took the actual cost and a journal that charges the
    // request's whole bound on recovery, more than the counters admitted.
    this.recorder.record(e, waiter && settle ? { journaled: () => { settle(); waiter.journaled(); } } : waiter, plan?.journal);
    // Without a waiter the line was written before record returned.
    if (!waiter) settle?.();
    this.observer.finished(e, d);
    if (plan?.fairSlot) this.fairShare.release(plan.fairSlot);
  }

  private settle(requestId: string, plan: Pick<Plan, "admission" | "ticket">, s: AdmissionSettlement): void {
    try {
      const r = this.admission.settle(plan.admission, plan.ticket, s);
      if (r instanceof Promise) r.catch((err: unknown) => this.logger.warn({ err, requestId }, "settle failed"));
    } catch (err) {
      this.logger.warn({ err, requestId }, "settle failed");
    }
  }

  /** Closes the upstream pools and the built-in simulator (the gateway flushes and stops the recorder after). */
  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
    this.pools.clear();
    this.links.close();
    await this.tokenAgent.close().catch(() => undefined);
    if (this.simulator) await this.simulator.close();
    else if (this.simulatorStarting) await (await this.simulatorStarting).close();
  }
}
