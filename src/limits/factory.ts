import type { Redis } from "ioredis";
import type { Clock } from "../lib/index.js";
import { systemClock } from "../lib/index.js";
import { DEFAULT_RESERVATION_LEASE_MS, type BudgetCounter, type ExpiredReservation } from "./budget.js";
import { BudgetCreditCounter, type CreditCounter } from "./credits.js";
import { MemoryBudgetCounter } from "./memory-budget.js";
import { MemoryRateLimiter } from "./memory-rate.js";
import type { RateLimiter } from "./rate.js";
import { RedisBudgetCounter } from "./redis-budget.js";
import { RedisHealth, type LimitsHealth, type LimitsLogger } from "./redis-health.js";
import { RedisRateLimiter } from "./redis-rate.js";
import { DEFAULT_FAILURE_POLICY, DeferredSettles, ResilientBudgetCounter, ResilientRateLimiter, type FailurePolicy } from "./resilient.js";

export interface LimitsOptions {
  /** Absent: in-process counters (one node). Present: shared counters, with the failure policy. */
  redis?: Redis | null;
  /** Redis key prefix; default "lk:". */
  prefix?: string;
  clock?: Clock;
  /** Nodes sharing the limits; the per-node share while Redis is unreachable. */
  nodeCount?: number;
  failure?: Partial<FailurePolicy>;
  /** Lease of budget reservations and concurrency slots: how long a request may live unsettled. */
  reservationLeaseMs?: number;
  logger?: LimitsLogger;
  /** Expired reservations (lease rule, budget.ts), each reported once; write `lease_expired` usage. */
  onLeaseExpired?: (expired: ExpiredReservation[]) => void | Promise<void>;
  /** One hash tag per organization (Redis Cluster); see RedisBudgetOptions.clusterTags. */
  clusterTags?: boolean;
  /** How often leases are swept; 0 turns the timer off (tests call `budgets.sweep()`). */
  sweepIntervalMs?: number;
}

export interface Limits {
  rate: RateLimiter;
  budgets: BudgetCounter;
  credits: CreditCounter;
  /** For /readyz: "degraded" while Redis does not answer. Always "healthy" in memory. */
  health(): LimitsHealth;
  close(): void;
}

const silentLogger: LimitsLogger = { warn: () => {}, info: () => {} };

/** Build the limits once at start-up (main.ts) and hand them to the gateway. */
export function createLimits(options: LimitsOptions = {}): Limits {
  const clock = options.clock ?? systemClock;
  const leaseMs = options.reservationLeaseMs ?? DEFAULT_RESERVATION_LEASE_MS;
  let rate: RateLimiter, budgets: BudgetCounter;
  let health: RedisHealth | null = null;
  if (options.redis) {
    const prefix = options.prefix ?? "lk:";
    const policy = { ...DEFAULT_FAILURE_POLICY, ...options.failure };
    health = new RedisHealth(options.redis, options.logger ?? silentLogger);
    const deferred = new DeferredSettles();
    const redisRate = new RedisRateLimiter({ redis: options.redis, prefix, clock, defaultLeaseMs: leaseMs });
    const redisBudgets = new RedisBudgetCounter({ redis: options.redis, prefix, clock, defaultLeaseMs: leaseMs, clusterTags: options.clusterTags });
    rate = new ResilientRateLimiter(redisRate, health, deferred, policy.rate, options.nodeCount ?? 1, clock, leaseMs);
    budgets = new ResilientBudgetCounter(redisBudgets, health, deferred, policy.spend, clock, leaseMs);
    health.onRecovery(() => deferred.replay(redisRate, redisBudgets));
  } else {
    rate = new MemoryRateLimiter({ clock, defaultLeaseMs: leaseMs });
    budgets = new MemoryBudgetCounter({ clock, defaultLeaseMs: leaseMs });
  }
  const timer = startSweeper(budgets, options);
  return {
    rate,
    budgets,
    credits: new BudgetCreditCounter(budgets),
    health: () => health?.state ?? "healthy",
    close: () => {
      if (timer) clearInterval(timer);
      health?.close();
    },
  };
}

function startSweeper(budgets: BudgetCounter, options: LimitsOptions): NodeJS.Timeout | null {
  const every = options.sweepIntervalMs ?? 1000;
  if (every <= 0) return null;
  const report = options.onLeaseExpired;
  const logger = options.logger ?? silentLogger;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    budgets.sweep()
      .then((expired) => (expired.length > 0 && report ? report(expired) : undefined))
      .catch((err: unknown) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, "limits: lease sweep failed"))
      .finally(() => { running = false; });
  }, every);
  timer.unref();
  return timer;
}
