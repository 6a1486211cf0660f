import { MemoryFailureCounts, type FailureCount, type FailureCounts } from "../keys/index.js";
import { sha256Hex } from "../lib/index.js";
import type { AdminServices } from "./services.js";

declare module "./services.js" {
  interface AdminServices {
    /** Failed-authentication counts: in Redis when configured (shared by every node), else in process. */
    failureCounts?: FailureCounts;
  }
}

export interface BackoffOptions {
  /** Failures allowed before any wait. */
  free: number;
  /** The first wait; each further failure doubles it. */
  firstWaitMs: number;
  maxAddressWaitMs: number;
  maxAccountWaitMs: number;
  /** Counts are forgotten this long after the last failure. */
  forgetMs: number;
  /** An address an account signed in from stays familiar this long. */
  familiarMs: number;
}

export const SIGN_IN_BACKOFF: BackoffOptions = {
  free: 5, firstWaitMs: 15_000, maxAddressWaitMs: 15 * 60_000, maxAccountWaitMs: 5 * 60_000, forgetMs: 3600_000, familiarMs: 30 * 24 * 3600_000,
};

/**
 * Exponential back-off of failed sign-ins instead of a lock. Per address: after a few failures
 * (at any accounts) each attempt from it must wait, twice as long after each further failure. Per
 * account: failures from addresses the account never signed in from make *such* addresses wait.
 * An address the account signed in from before is held back by neither, so guessing at someone's
 * password, from elsewhere or from behind the same address, cannot keep them out.
 */
export class SignInBackoff {
  constructor(private readonly counts: FailureCounts, private readonly o: BackoffOptions = SIGN_IN_BACKOFF) {}

  /** Milliseconds this attempt must wait before it is judged; 0 when it may go ahead. */
  async waitMs(email: string, ip: string, now: number): Promise<number> {
    // An address that signed in to this account before already knew its password: nothing holds it back.
    if (await this.counts.marked(familiar(email, ip), now)) return 0;
    const byAddress = this.wait(await this.counts.get(`addr:${ip}`, now), now, this.o.maxAddressWaitMs);
    return Math.max(byAddress, this.wait(await this.counts.get(account(email), now), now, this.o.maxAccountWaitMs));
  }

  async failed(email: string, ip: string, now: number): Promise<void> {
    await this.counts.add(`addr:${ip}`, now, this.o.forgetMs);
    if (!(await this.counts.marked(familiar(email, ip), now))) await this.counts.add(account(email), now, this.o.forgetMs);
  }

  async succeeded(email: string, ip: string, now: number): Promise<void> {
    await this.counts.mark(familiar(email, ip), now, this.o.familiarMs);
  }

  private wait(c: FailureCount | null, now: number, maxMs: number): number {
    if (!c || c.count < this.o.free) return 0;
    const waitMs = Math.min(this.o.firstWaitMs * 2 ** Math.min(c.count - this.o.free, 30), maxMs);
    return Math.max(0, c.last + waitMs - now);
  }
}

// Accounts by a digest of the email, so that Redis holds no addresses of people.
const account = (email: string) => `acct:${sha256Hex(email)}`;
const familiar = (email: string, ip: string) => `seen:${sha256Hex(`${email}\n${ip}`)}`;

const backoffs = new WeakMap<AdminServices, SignInBackoff>();

/** The sign-in back-off of these services (built once, over the shared counts when there are). */
export function signInBackoff(s: AdminServices): SignInBackoff {
  let b = backoffs.get(s);
  if (!b) {
    b = new SignInBackoff(s.failureCounts ?? new MemoryFailureCounts());
    backoffs.set(s, b);
  }
  return b;
}
