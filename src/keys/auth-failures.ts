/**
 * Failed authentication, limited per client IP so that guessing keys is slow: a sliding count of
 * failures over the last minute (two fixed buckets weighted, no burst at the edge).
 */
export class AuthFailureLimiter {
  private readonly buckets = new Map<string, { start: number; current: number; previous: number }>();

  constructor(private readonly perMinute = 30, private readonly maxTracked = 100_000) {}

  /** Seconds to wait when this IP has failed too often, else 0. */
  blockedFor(ip: string, now: number): number {
    const b = this.roll(ip, now);
    if (!b) return 0;
    const weight = 1 - (now - b.start) / 60_000;
    return b.current + b.previous * weight >= this.perMinute ? Math.ceil((60_000 - (now - b.start)) / 1000) : 0;
  }

  recordFailure(ip: string, now: number): void {
    let b = this.roll(ip, now);
    if (!b) {
      if (this.buckets.size >= this.maxTracked) this.buckets.delete(this.buckets.keys().next().value!);
      b = { start: now, current: 0, previous: 0 };
      this.buckets.set(ip, b);
    }
    b.current++;
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
