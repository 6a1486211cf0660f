/**
 * Rate limits: requests per minute, tokens (input + output) per minute and concurrent requests,
 * per subject ("key:…", "wrk:…", "org:…", "ip:…"; any string).
 *
 * Requests and tokens use a sliding log over the last 60 s: every admitted request is an entry
 * with its time (and its tokens), and a request is admitted only when the entries younger than
 * 60 s plus this one stay within the limit. No 60 s span ever holds more than the limit, so there
 * is no double burst at a window edge as with fixed windows (and no refill-during-burst as with a
 * token bucket or GCRA whose tolerance is the whole minute).
 *
 * Tokens are reserved at admit with the request's upper bound and corrected to the real count at
 * settle, so concurrent requests cannot slip past a token limit. Concurrency slots carry a lease:
 * a slot whose request never settles frees itself when the lease ends.
 *
 * `admit` checks every subject of the request at once: a refusal consumes nothing anywhere.
 */
export interface RateLimits {
  requestsPerMinute?: number | null;
  tokensPerMinute?: number | null;
  concurrentRequests?: number | null;
}

export interface RateSubject extends RateLimits {
  id: string;
}

export interface RateAdmitInput {
  subjects: readonly RateSubject[];
  /** Upper bound of the request's input + output tokens; corrected at settle. */
  tokens: number;
  /** Unique per request (the gateway's request id). */
  requestId: string;
  /** Concurrency-slot lease; the limiter's default when absent. */
  leaseMs?: number;
  /** Redis Cluster hash tag (e.g. the organization id) so all of a request's keys share a slot. */
  tag?: string;
}

export type RateKind = "requests" | "tokens" | "concurrent";

/** The tightest subject for one kind of limit, for the response headers. */
export interface RateState {
  limit: number;
  remaining: number;
  /** When the window will be fully replenished, ms epoch. */
  resetAt: number;
}

export interface RateRefusal {
  /** "unavailable": Redis is unreachable and the policy fails closed (error code store_unavailable). */
  reason: "limit" | "unavailable";
  kind: RateKind;
  subject: string;
  limit: number;
  retryAfterSeconds: number;
  /** The request alone is larger than the limit: it can never pass. */
  exceedsLimit: boolean;
}

/** What settle needs; plain data, kept by the caller for the request's lifetime. */
export interface RateTicket {
  requestId: string;
  subjects: readonly RateSubject[];
  tokens: number;
  at: number;
  tag: string;
  /** Admitted by the per-node fallback limiter while Redis was unreachable. */
  local: boolean;
  /**
   * What the in-process limiter holds for this request (its token entries and concurrency slots),
   * opaque to everyone else; absent on Redis's tickets. The ticket carries it so that settling
   * looks nothing up by request id (see memory-rate.ts).
   */
  hold?: unknown;
}

export interface RateDecision {
  admitted: boolean;
  requests: RateState | null;
  tokens: RateState | null;
  concurrent: RateState | null;
  refused: RateRefusal | null;
  ticket: RateTicket | null;
}

export interface RateLimiter {
  admit(input: RateAdmitInput): Promise<RateDecision>;
  /** Correct the reserved tokens to `actualTokens` and free the concurrency slot. Idempotent. */
  settle(ticket: RateTicket, actualTokens: number): Promise<void>;
  /** In-process backends only: the same as admit and settle, answered without a promise (the gateway's hot path). */
  admitSync?(input: RateAdmitInput): RateDecision;
  settleSync?(ticket: RateTicket, actualTokens: number): void;
}

export const RATE_WINDOW_MS = 60_000;
export const DEFAULT_SLOT_LEASE_MS = 15 * 60_000;
export const DEFAULT_TAG = "lk";

const KINDS: readonly RateKind[] = ["requests", "tokens", "concurrent"];

/**
 * The raw answer both backends compute, flat so a Lua script can return it unchanged:
 * [admitted, then (limit, remaining, resetAt) for requests, tokens, concurrent (limit -1: none),
 *  refused subject index (-1), refused kind index, retry-after ms (-1: exceeds the limit)].
 */
export type RawRateAnswer = readonly number[];

export function decisionFrom(raw: RawRateAnswer, input: RateAdmitInput, now: number, local: boolean, hold?: unknown): RateDecision {
  const admitted = raw[0] === 1;
  const refusedIdx = raw[10] ?? -1;
  let refused: RateRefusal | null = null;
  if (!admitted && refusedIdx >= 0) {
    const kind = KINDS[raw[11] ?? 0] ?? "requests";
    const retryMs = raw[12] ?? 0;
    const subject = input.subjects[refusedIdx];
    refused = {
      reason: "limit",
      kind,
      subject: subject?.id ?? "",
      limit: (kind === "requests" ? subject?.requestsPerMinute : kind === "tokens" ? subject?.tokensPerMinute : subject?.concurrentRequests) ?? 0,
      retryAfterSeconds: retryMs < 0 ? Math.ceil(RATE_WINDOW_MS / 1000) : Math.max(1, Math.ceil(retryMs / 1000)),
      exceedsLimit: retryMs < 0,
    };
  }
  return {
    admitted,
    requests: stateAt(raw, 1),
    tokens: stateAt(raw, 4),
    concurrent: stateAt(raw, 7),
    refused,
    ticket: admitted
      ? { requestId: input.requestId, subjects: input.subjects, tokens: input.tokens, at: now, tag: input.tag ?? DEFAULT_TAG, local, hold }
      : null,
  };
}

function stateAt(raw: RawRateAnswer, i: number): RateState | null {
  const limit = raw[i] ?? -1;
  if (limit < 0) return null;
  return { limit, remaining: Math.max(0, raw[i + 1] ?? 0), resetAt: raw[i + 2] ?? 0 };
}

/** A limit value that is set and positive, else 0 (none). */
export function limitOf(v: number | null | undefined): number {
  return v != null && v > 0 ? Math.floor(v) : 0;
}
