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
  BudgetCounter, BudgetReservation, CounterSnapshot, ExpiredReservation, LeaseCheck, LoadOptions, ReserveInput, ReserveResult, SettleOutcome,
} from "./budget.js";
import { periodRange, type CounterPeriod } from "./periods.js";
import { MemoryRateLimiter } from "./memory-rate.js";
import { DEFAULT_TAG, decisionFrom, limitOf, type RateAdmitInput, type RateDecision, type RateLimiter, type RateSubject, type RateTicket } from "./rate.js";
import { answered, isUnavailable, type RedisHealth } from "./redis-health.js";
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
        if (item.reservation && budgets) await budgets.settle(item.reservation, item.actual);
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
      const asked = this.redis.admit(input);
      try {
        return await answered(asked);
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        this.health.markDown(err);
        this.giveBackLate(asked, input);
      }
    }
    return this.fallback(input);
  }

  /**
   * An admit Redis did not answer in time may still run there, or have run with its answer lost:
   * what it took (a concurrency slot, tokens) is given back once it answers, or once Redis is
   * back, so the request, admitted by the fallback instead, does not also hold a slot there until
   * its lease ends. Giving back what was never taken changes nothing.
   */
  private giveBackLate(asked: Promise<RateDecision>, input: RateAdmitInput): void {
    const at = this.clock.now();
    const ticket: RateTicket = { requestId: input.requestId, subjects: input.subjects, tokens: input.tokens, at, tag: input.tag ?? DEFAULT_TAG, local: false };
    asked.then((d) => this.settle(d.ticket ?? ticket, 0), () => this.deferred.push({ ticket, reservation: null, actual: 0 })).catch(() => undefined);
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
    return this.local.decide(localInput, now, true);
  }

  async settle(ticket: RateTicket, actualTokens: number): Promise<void> {
    if (ticket.local) return this.local.settle(ticket, actualTokens);
    if (this.health.state === "healthy") {
      try {
        return await answered(this.redis.settle(ticket, actualTokens));
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        this.health.markDown(err);
      }
    }
    this.deferred.push({ ticket, reservation: null, actual: actualTokens });
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
      const asked = this.redis.reserve(input);
      try {
        return await answered(asked);
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        this.health.markDown(err);
        // Made after all, its answer late or lost: released, or its lease would charge it in full.
        const lost = this.reservationOf(input, false);
        asked.then((r) => (r.outcome === "admitted" ? this.release(r.reservation) : undefined), () => this.deferred.push({ ticket: null, reservation: lost, actual: 0 }))
          .catch(() => undefined);
      }
    }
    if (this.policy === "closed") return { outcome: "unavailable" };
    return { outcome: "admitted", reservation: this.reservationOf(input, true) };
  }

  private reservationOf(input: ReserveInput, local: boolean): BudgetReservation {
    const now = this.clock.now();
    return {
      requestId: input.requestId, amountNano: input.amountNano, subjects: input.subjects, periodKeys: input.subjects.map((s) => periodRange(s.period, now).key),
      reservedAt: now, expiresAt: now + (input.leaseMs ?? this.leaseMs), tag: input.tag ?? DEFAULT_TAG, local,
    };
  }

  async settle(reservation: BudgetReservation, actualNano: number): Promise<SettleOutcome> {
    if (this.health.state === "healthy") {
      try {
        return await answered(this.redis.settle(reservation, actualNano));
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        this.health.markDown(err);
      }
    }
    this.deferred.push({ ticket: null, reservation, actual: actualNano });
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

  async correct(expired: ExpiredReservation, actualNano: number): Promise<void> {
    await this.guard(() => this.redis.correct?.(expired, actualNano) ?? Promise.resolve());
  }

  async neverReserved(leases: readonly LeaseCheck[]): Promise<Set<string>> {
    return this.guard(() => this.redis.neverReserved?.(leases) ?? Promise.resolve(new Set<string>()));
  }

  /**
   * A Redis that does not answer (a timeout, a lost connection) fails the call as the store being
   * unavailable, which the gateway answers 503 with a usage record: ioredis's own "Command timed
   * out" is not recognised as a dependency failure, and a counter load in the middle of a burst
   * came back as a 500 with no record.
   */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await answered(fn());
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      this.health.markDown(err);
      throw new StoreUnavailableError(`Redis did not answer: ${(err as Error).message}`, err);
    }
  }
}
