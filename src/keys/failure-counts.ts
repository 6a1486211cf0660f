import type { Redis } from "ioredis";

/** A count of failures under one name, and when the last one happened. */
export interface FailureCount { count: number; last: number }

/**
 * Counts of failed authentications (per address, per account) and marks (an address an account
 * signed in from). In process, or in Redis so that every node sees the same counts.
 */
export interface FailureCounts {
  /** Adds a failure; the count is forgotten `ttlMs` after the last one. */
  add(name: string, now: number, ttlMs: number): Promise<FailureCount>;
  get(name: string, now: number): Promise<FailureCount | null>;
  mark(name: string, now: number, ttlMs: number): Promise<void>;
  marked(name: string, now: number): Promise<boolean>;
}

/** One node's counts. */
export class MemoryFailureCounts implements FailureCounts {
  private readonly counts = new Map<string, FailureCount & { until: number }>();
  private readonly marks = new Map<string, number>();

  constructor(private readonly maxTracked = 100_000) {}

  async add(name: string, now: number, ttlMs: number): Promise<FailureCount> {
    const c = await this.get(name, now);
    const next = { count: (c?.count ?? 0) + 1, last: now, until: now + ttlMs };
    this.counts.delete(name);
    if (this.counts.size >= this.maxTracked) this.counts.delete(this.counts.keys().next().value!);
    this.counts.set(name, next);
    return { count: next.count, last: now };
  }

  async get(name: string, now: number): Promise<FailureCount | null> {
    const c = this.counts.get(name);
    if (!c) return null;
    if (now >= c.until) {
      this.counts.delete(name);
      return null;
    }
    return { count: c.count, last: c.last };
  }

  async mark(name: string, now: number, ttlMs: number): Promise<void> {
    this.marks.delete(name);
    if (this.marks.size >= this.maxTracked) this.marks.delete(this.marks.keys().next().value!);
    this.marks.set(name, now + ttlMs);
  }

  async marked(name: string, now: number): Promise<boolean> {
    const until = this.marks.get(name);
    return until !== undefined && now < until;
  }
}

const ADD = `local c = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return c`;

/**
 * Counts shared by every node through Redis. When Redis cannot be reached the node falls back to
 * counting on its own, so failures are still limited, per node, rather than not at all.
 */
export class RedisFailureCounts implements FailureCounts {
  private readonly local = new MemoryFailureCounts();

  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private key(name: string): string {
    return `${this.prefix}authfail:${name}`;
  }

  async add(name: string, now: number, ttlMs: number): Promise<FailureCount> {
    try {
      const count = Number(await this.redis.eval(ADD, 1, this.key(name), String(now), String(ttlMs)));
      return { count, last: now };
    } catch {
      return this.local.add(name, now, ttlMs);
    }
  }

  async get(name: string, now: number): Promise<FailureCount | null> {
    try {
      const [count, last] = await this.redis.hmget(this.key(name), "count", "last");
      return count ? { count: Number(count), last: Number(last) } : null;
    } catch {
      return this.local.get(name, now);
    }
  }

  async mark(name: string, now: number, ttlMs: number): Promise<void> {
    try {
      await this.redis.set(this.key(name), "1", "PX", ttlMs);
    } catch {
      await this.local.mark(name, now, ttlMs);
    }
  }

  async marked(name: string, now: number): Promise<boolean> {
    try {
      return (await this.redis.exists(this.key(name))) === 1;
    } catch {
      return this.local.marked(name, now);
    }
  }
}
