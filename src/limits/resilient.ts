/**
 * Failure policy: what the limits do while Redis does not answer (connection refused, timeout).
 *
 * - Spend limits and credits fail CLOSED by default: `reserve` answers `unavailable` (error code
 *   store_unavailable), because admitting unmetered spend could overrun a budget without bound.
 *   With `spend: "open"` the request is admitted with a local reservation and its settle charges
 *   the counters once Redis answers.
 * - Rate limits fall back by default to a limiter in this process with limit/N per node (N = the
 *   configured node count), so the cluster as a whole stays near the limit; or `open` (admit all)
 *   or `closed` (refuse all, reason "unavailable").
 * - Settles that cannot reach Redis are kept in this process (bounded) and replayed when it
 *   answers again; settles are idempotent, so a replay never counts twice.
 * The state (`healthy | degraded`) is for /readyz; each transition is logged once; a ping every
 * second while degraded brings the limits back to Redis by themselves.
 */
import type {
  BudgetCounter, BudgetReservation, CounterSnapshot, ExpiredReservation, LoadOptions, ReserveInput, ReserveResult, SettleOutcome,
} from "./budget.js";
import { periodRange, type CounterPeriod } from "./periods.js";
import { MemoryRateLimiter } from "./memory-rate.js";
import { DEFAULT_TAG, decisionFrom, limitOf, type RateAdmitInput, type RateDecision, type RateLimiter, type RateSubject, type RateTicket } from "./rate.js";
import { isUnavailable, type RedisHealth } from "./redis-health.js";
import type { Clock } from "../lib/index.js";
import { StoreUnavailableError } from "../errors/index.js";

export interface FailurePolicy {
  spend: "closed" | "open";
  rate: "local" | "open" | "closed";
}

export const DEFAULT_FAILURE_POLICY: FailurePolicy = { spend: "closed", rate: "local" };
const MAX_DEFERRED = 100_000;

interface DeferredSettle {
  ticket: RateTicket | null;
  reservation: BudgetReservation | null;
  actual: number;
  /** When the request finished: a counter loaded after its record was written has it already. */
  at: number;
}

/** Settles waiting for Redis; plain records, replayed in order on recovery. */
export class DeferredSettles {
  private queue: DeferredSettle[] = [];
  dropped = 0;

  push(item: DeferredSettle): void {
    if (this.queue.length >= MAX_DEFERRED) { this.queue.shift(); this.dropped++; }
    this.queue.push(item);
  }

  /** Apply the kept settles in order; stops (throwing) at the first one Redis does not answer. */
  async replay(rate: RateLimiter | null, budgets: BudgetCounter | null): Promise<void> {
    while (this.queue.length > 0) {
      const item = this.queue[0]!;
      try {
        if (item.ticket && rate) await rate.settle(item.ticket, item.actual);
        if (item.reservation && budgets) await budgets.settle(item.reservation, item.actual, item.at);
      } catch (err) {
        if (isUnavailable(err)) throw err;
        this.dropped++; // Redis answered with an error: retrying cannot help
      }
      this.queue.shift();
    }
  }

  get size(): number {
    return this.queue.length;
  }
}

export class ResilientRateLimiter implements RateLimiter {
  private readonly local: MemoryRateLimiter;

  constructor(
    private readonly redis: RateLimiter,
    private readonly health: RedisHealth,
    private readonly deferred: DeferredSettles,
    private readonly policy: FailurePolicy["rate"],
    private readonly nodeCount: number,
    private readonly clock: Clock,
    slotLeaseMs?: number,
  ) {
    this.local = new MemoryRateLimiter({ clock, defaultLeaseMs: slotLeaseMs });
  }

  async admit(input: RateAdmitInput): Promise<RateDecision> {
    if (this.health.state === "healthy") {
      try {
        return await this.redis.admit(input);
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        this.health.markDown(err);
      }
    }
    return this.fallback(input);
  }

  private fallback(input: RateAdmitInput): RateDecision {
    const now = this.clock.now();
    if (this.policy === "open") return decisionFrom([1, -1, 0, 0, -1, 0, 0, -1, 0, 0, -1, -1, 0], input, now, true);
    if (this.policy === "closed") {
      const d = decisionFrom([0, -1, 0, 0, -1, 0, 0, -1, 0, 0, 0, 0, 1000], input, now, true);
      if (d.refused) d.refused.reason = "unavailable";
      return d;
    }
    const n = this.nodeCount;
    const shares: RateSubject[] = input.subjects.map((s) => ({
      id: s.id, requestsPerMinute: share(s.requestsPerMinute, n), tokensPerMinute: share(s.tokensPerMinute, n), concurrentRequests: share(s.concurrentRequests, n),
    }));
    const localInput = { subjects: shares, tokens: input.tokens, requestId: input.requestId, leaseMs: input.leaseMs, tag: input.tag };
    return decisionFrom(this.local.admitRaw(localInput, now), localInput, now, true);
  }

  async settle(ticket: RateTicket, actualTokens: number): Promise<void> {
    if (ticket.local) return this.local.settle(ticket, actualTokens);
    if (this.health.state === "healthy") {
      try {
        return await this.redis.settle(ticket, actualTokens);
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        this.health.markDown(err);
      }
    }
    this.deferred.push({ ticket, reservation: null, actual: actualTokens, at: this.clock.now() });
  }
}

function share(limit: number | null | undefined, nodes: number): number {
  const l = limitOf(limit);
  return l > 0 ? Math.max(1, Math.floor(l / nodes)) : 0;
}

export class ResilientBudgetCounter implements BudgetCounter {
  constructor(
    private readonly redis: BudgetCounter,
    private readonly health: RedisHealth,
    private readonly deferred: DeferredSettles,
    private readonly policy: FailurePolicy["spend"],
    private readonly clock: Clock,
    private readonly leaseMs: number,
  ) {}

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    if (this.health.state === "healthy") {
      try {
        return await this.redis.reserve(input);
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        this.health.markDown(err);
      }
    }
    if (this.policy === "closed") return { outcome: "unavailable" };
    const now = this.clock.now();
    return {
      outcome: "admitted",
      reservation: {
        requestId: input.requestId, amountNano: input.amountNano, subjects: input.subjects, periodKeys: input.subjects.map((s) => periodRange(s.period, now).key),
        reservedAt: now, expiresAt: now + (input.leaseMs ?? this.leaseMs), tag: input.tag ?? DEFAULT_TAG, local: true,
      },
    };
  }

  async settle(reservation: BudgetReservation, actualNano: number): Promise<SettleOutcome> {
    if (this.health.state === "healthy") {
      try {
        return await this.redis.settle(reservation, actualNano);
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        this.health.markDown(err);
      }
    }
    this.deferred.push({ ticket: null, reservation, actual: actualNano, at: this.clock.now() });
    return "deferred";
  }

  release(reservation: BudgetReservation): Promise<SettleOutcome> {
    return this.settle(reservation, 0);
  }

  load(subject: string, period: CounterPeriod, spentNano: number, options?: LoadOptions | string): Promise<boolean> {
    return this.guard(() => this.redis.load(subject, period, spentNano, options));
  }

  loadBalance(subject: string, balanceNano: number, options?: LoadOptions | string): Promise<boolean> {
    return this.guard(() => this.redis.loadBalance(subject, balanceNano, options));
  }

  topUp(subject: string, amountNano: number, tag?: string, seq?: number): Promise<boolean> {
    return this.guard(() => this.redis.topUp(subject, amountNano, tag, seq)).catch(() => false);
  }

  snapshot(subject: string, period: CounterPeriod, tag?: string): Promise<CounterSnapshot | null> {
    return this.guard(() => this.redis.snapshot(subject, period, tag));
  }

  async sweep(tags?: readonly string[]): Promise<ExpiredReservation[]> {
    if (this.health.state === "degraded") return [];
    return this.guard(() => this.redis.sweep(tags));
  }

  /**
   * A Redis that does not answer (a timeout, a lost connection) fails the call as the store being
   * unavailable, which the gateway answers 503 with a usage record: ioredis's own "Command timed
   * out" is not recognised as a dependency failure, and a counter load in the middle of a burst
   * came back as a 500 with no record.
   */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      this.health.markDown(err);
      throw new StoreUnavailableError(`Redis did not answer: ${(err as Error).message}`, err);
    }
  }
}
