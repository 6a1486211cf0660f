import type { Redis } from "ioredis";
import type { Clock } from "../lib/index.js";
import { systemClock } from "../lib/index.js";
import { keyBase, withLimitsCommands, type LimitsCommands } from "./redis-commands.js";
import {
  DEFAULT_SLOT_LEASE_MS, DEFAULT_TAG, RATE_WINDOW_MS, decisionFrom, limitOf,
  type RateAdmitInput, type RateDecision, type RateLimiter, type RateTicket,
} from "./rate.js";

export interface RedisRateOptions {
  redis: Redis;
  /** Key prefix, e.g. "lk:"; several deployments (or test suites) can share one Redis. */
  prefix: string;
  /** Time comes from here, not from Redis TIME, so that tests control it; nodes keep NTP time. */
  clock?: Clock;
  defaultLeaseMs?: number;
}

/** The several-node rate limiter: one Lua script per admit and one per settle. */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis & LimitsCommands;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly defaultLeaseMs: number;

  constructor(options: RedisRateOptions) {
    this.redis = withLimitsCommands(options.redis);
    this.prefix = options.prefix;
    this.clock = options.clock ?? systemClock;
    this.defaultLeaseMs = options.defaultLeaseMs ?? DEFAULT_SLOT_LEASE_MS;
  }

  async admit(input: RateAdmitInput): Promise<RateDecision> {
    const now = this.clock.now();
    const base = keyBase(this.prefix, input.tag ?? DEFAULT_TAG);
    const subjects = input.subjects;
    const n = subjects.length;
    const keys: string[] = new Array<string>(n * 3);
    const args: (string | number)[] = [now, RATE_WINDOW_MS, Math.max(0, Math.ceil(input.tokens)), input.requestId, input.leaseMs ?? this.defaultLeaseMs, n];
    for (let i = 0; i < n; i++) {
      const s = subjects[i]!;
      const k = `${base}r:${s.id}:`;
      keys[i * 3] = `${k}l`;
      keys[i * 3 + 1] = `${k}a`;
      keys[i * 3 + 2] = `${k}c`;
      args.push(limitOf(s.requestsPerMinute), limitOf(s.tokensPerMinute), limitOf(s.concurrentRequests));
    }
    const raw = (await this.redis.lkRateAdmit(n * 3, ...keys, ...args)) as number[];
    return decisionFrom(raw, input, now, false);
  }

  async settle(ticket: RateTicket, actualTokens: number): Promise<void> {
    const now = this.clock.now();
    const base = keyBase(this.prefix, ticket.tag);
    const n = ticket.subjects.length;
    const keys: string[] = new Array<string>(n * 2);
    const args: (string | number)[] = [now, RATE_WINDOW_MS, ticket.requestId, Math.max(0, Math.ceil(actualTokens)), ticket.at, n];
    for (let i = 0; i < n; i++) {
      const s = ticket.subjects[i]!;
      const k = `${base}r:${s.id}:`;
      keys[i * 2] = `${k}a`;
      keys[i * 2 + 1] = `${k}c`;
      args.push(limitOf(s.tokensPerMinute), limitOf(s.concurrentRequests));
    }
    await this.redis.lkRateSettle(n * 2, ...keys, ...args);
  }
}
