import type { FailureCounts } from "./failure-counts.js";

/**
 * Failed authentication, limited per client IP so that guessing keys is slow: a sliding count of
 * failures over the last minute (two fixed buckets weighted, no burst at the edge).
 */
export class AuthFailureLimiter {
  private readonly buckets = new Map<string, { start: number; current: number; previous: number }>();
  /** Addresses the shared counts say failed too often on all nodes together, until when. */
  private readonly blockedUntil = new Map<string, number>();

  /**
   * With `shared` counts (Redis), each failure is also counted there, per minute, and an address
   * over the limit on all nodes together is held back here too. The check stays in process (no
   * round trip on the request path); a node learns of the shared count on a failure of its own.
   */
  constructor(private readonly perMinute = 30, private readonly maxTracked = 100_000, private readonly shared?: FailureCounts) {}

  /** Seconds to wait when this IP has failed too often, else 0. */
  blockedFor(ip: string, now: number): number {
    const until = this.blockedUntil.get(ip);
    if (until !== undefined) {
      if (now < until) return Math.ceil((until - now) / 1000);
      this.blockedUntil.delete(ip);
    }
    const b = this.roll(ip, now);
    if (!b) return 0;
    const weight = 1 - (now - b.start) / 60_000;
    return b.current + b.previous * weight >= this.perMinute ? Math.ceil((60_000 - (now - b.start)) / 1000) : 0;
  }

  recordFailure(ip: string, now: number): void {
    this.countLocal(ip, now);
    if (this.shared) void this.countShared(ip, now).catch(() => undefined);
  }

  /** Waits for the shared count (tests; the request path never waits for it). */
  async recordFailureShared(ip: string, now: number): Promise<void> {
    this.countLocal(ip, now);
    if (this.shared) await this.countShared(ip, now);
  }

  private countLocal(ip: string, now: number): void {
    let b = this.roll(ip, now);
    if (!b) {
      if (this.buckets.size >= this.maxTracked) this.buckets.delete(this.buckets.keys().next().value!);
      b = { start: now, current: 0, previous: 0 };
      this.buckets.set(ip, b);
    }
    b.current++;
  }

  private async countShared(ip: string, now: number): Promise<void> {
    const minute = Math.floor(now / 60_000);
    const current = await this.shared!.add(`ip:${ip}:${minute}`, now, 120_000);
    const previous = await this.shared!.get(`ip:${ip}:${minute - 1}`, now);
    const weight = 1 - (now - minute * 60_000) / 60_000;
    if (current.count + (previous?.count ?? 0) * weight >= this.perMinute) {
      if (this.blockedUntil.size >= this.maxTracked) this.blockedUntil.delete(this.blockedUntil.keys().next().value!);
      this.blockedUntil.set(ip, (minute + 1) * 60_000);
    }
  }

  private roll(ip: string, now: number) {
    const b = this.buckets.get(ip);
    if (!b) return undefined;
    const elapsed = now - b.start;
    if (elapsed >= 120_000) {
      this.buckets.delete(ip);
      return undefined;
    }
    if (elapsed >= 60_000) {
      b.previous = b.current;
      b.current = 0;
      b.start += 60_000;
    }
    return b;
  }
}
