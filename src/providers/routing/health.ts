/** After this many failures in a row a deployment rests, longer each time (up to MAX_COOLDOWN_MS). */
const FAILURES_BEFORE_COOLDOWN = 3;
const BASE_COOLDOWN_MS = 5_000;
const MAX_COOLDOWN_MS = 60_000;

interface State {
  failures: number;
  until: number;
}

/**
 * Which deployments are resting: one that keeps failing (429, 5xx, timeouts, refused connections)
 * is tried after the healthy ones for a while, and one that said `retry-after` is rested that
 * long. A success clears it. Per gateway node: each node learns from its own traffic.
 */
export class DeploymentHealth {
  private readonly states = new Map<string, State>();

  constructor(private readonly now: () => number = Date.now) {}

  failed(key: string, retryAfterMs = 0): void {
    let s = this.states.get(key);
    if (!s) this.states.set(key, (s = { failures: 0, until: 0 }));
    s.failures++;
    const t = this.now();
    if (retryAfterMs > 0) s.until = Math.max(s.until, t + Math.min(retryAfterMs, MAX_COOLDOWN_MS));
    if (s.failures >= FAILURES_BEFORE_COOLDOWN) {
      s.until = Math.max(s.until, t + Math.min(MAX_COOLDOWN_MS, BASE_COOLDOWN_MS * 2 ** (s.failures - FAILURES_BEFORE_COOLDOWN)));
    }
  }

  succeeded(key: string): void {
    if (this.states.size > 0) this.states.delete(key);
  }

  /** True while the deployment rests. */
  resting(key: string): boolean {
    if (this.states.size === 0) return false;
    const s = this.states.get(key);
    return s !== undefined && s.until > this.now();
  }
}
