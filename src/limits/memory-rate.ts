import type { Clock } from "../lib/index.js";
import { systemClock } from "../lib/index.js";
import {
  DEFAULT_SLOT_LEASE_MS, RATE_WINDOW_MS, decisionFrom, limitOf,
  type RateAdmitInput, type RateDecision, type RateLimiter, type RateTicket,
} from "./rate.js";

/**
 * One subject's sliding logs; arrays are queues with a moving head (no shift per request).
 *
 * The token log is three parallel arrays (time, amount, request id) rather than an object per
 * entry: a busy key holds a minute of requests, and at thousands a second objects that live a
 * minute cost tens of megabytes and old-generation collections. A request id is kept only until
 * the request settles (its amount can change until then); `open` finds its entry meanwhile.
 */
interface SubjectLog {
  req: number[];
  reqHead: number;
  tokAt: number[];
  tokAmount: number[];
  tokId: (string | null)[];
  tokHead: number;
  /** Entries removed from the front of the token arrays so far: absolute index = tokBase + position. */
  tokBase: number;
  /** Unsettled requests: request id → absolute index of its token entry. */
  open: Map<string, number>;
  tokSum: number;
  slots: Map<string, number>;
  /** The earliest lease end among `slots` (or later): until then no slot can have expired. */
  slotsExpireAt: number;
}

export interface MemoryRateOptions {
  clock?: Clock;
  defaultLeaseMs?: number;
}

/** The one-node rate limiter: the same sliding logs as the Redis scripts, in this process. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly logs = new Map<string, SubjectLog>();
  private readonly clock: Clock;
  private readonly defaultLeaseMs: number;
  private prunedAt = 0;
  // Reused scratch space: per subject [reqCount, tokSum, slotCount, retryMs-or-NaN, refusedKind].
  private scratch: number[] = [];

  constructor(options: MemoryRateOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.defaultLeaseMs = options.defaultLeaseMs ?? DEFAULT_SLOT_LEASE_MS;
  }

  admit(input: RateAdmitInput): Promise<RateDecision> {
    return Promise.resolve(this.admitSync(input));
  }

  admitSync(input: RateAdmitInput): RateDecision {
    const now = this.clock.now();
    return decisionFrom(this.admitRaw(input, now), input, now, false);
  }

  /** Synchronous admit returning the flat answer; the fallback limiter of `resilient.ts` uses it too. */
  admitRaw(input: RateAdmitInput, now: number): number[] {
    if (now - this.prunedAt > RATE_WINDOW_MS) this.prune(now);
    const cut = now - RATE_WINDOW_MS;
    const subjects = input.subjects;
    const tokens = Math.max(0, Math.ceil(input.tokens));
    const s = this.scratch;
    s.length = 0;
    let refusedIdx = -1, refusedKind = -1, retryMs = 0;
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[i]!;
      const log = this.logFor(subject.id);
      const rpm = limitOf(subject.requestsPerMinute), tpm = limitOf(subject.tokensPerMinute), cc = limitOf(subject.concurrentRequests);
      expire(log, cut, now);
      const reqCount = log.req.length - log.reqHead;
      s.push(reqCount, log.tokSum, log.slots.size);
      let retry = -2, kind = -1;
      if (rpm > 0 && reqCount + 1 > rpm) {
        kind = 0;
        retry = log.req[log.reqHead + reqCount - rpm]! + RATE_WINDOW_MS - now;
      }
      if (tpm > 0 && log.tokSum + tokens > tpm) {
        const r = tokens > tpm ? -1 : tokenRetry(log, tokens, tpm, now);
        if (kind < 0 || r < 0 || (retry >= 0 && r > retry)) { kind = 1; retry = r; }
      }
      if (cc > 0 && log.slots.size + 1 > cc && kind < 0) { kind = 2; retry = 1000; }
      if (kind >= 0 && (refusedIdx < 0 || retry < 0 || (retryMs >= 0 && retry > retryMs))) {
        refusedIdx = i; refusedKind = kind; retryMs = retry;
      }
    }
    const admitted = refusedIdx < 0;
    if (admitted) {
      const lease = input.leaseMs ?? this.defaultLeaseMs;
      for (const subject of subjects) {
        const log = this.logs.get(subject.id)!;
        if (limitOf(subject.requestsPerMinute) > 0) log.req.push(now);
        if (limitOf(subject.tokensPerMinute) > 0) {
          log.open.set(input.requestId, log.tokBase + log.tokAt.length);
          log.tokAt.push(now);
          log.tokAmount.push(tokens);
          log.tokId.push(input.requestId);
          log.tokSum += tokens;
        }
        if (limitOf(subject.concurrentRequests) > 0) {
          log.slots.set(input.requestId, now + lease);
          if (now + lease < log.slotsExpireAt) log.slotsExpireAt = now + lease;
        }
      }
    }
    return tightest(input, s, admitted, tokens, now, refusedIdx, refusedKind, retryMs);
  }

  settle(ticket: RateTicket, actualTokens: number): Promise<void> {
    this.settleSync(ticket, actualTokens);
    return Promise.resolve();
  }

  settleSync(ticket: RateTicket, actualTokens: number): void {
    this.settleNow(ticket, actualTokens, this.clock.now());
  }

  settleNow(ticket: RateTicket, actualTokens: number, now: number): void {
    const actual = Math.max(0, Math.ceil(actualTokens));
    for (const subject of ticket.subjects) {
      const log = this.logs.get(subject.id);
      if (!log) continue;
      const abs = log.open.get(ticket.requestId);
      if (abs !== undefined) {
        log.open.delete(ticket.requestId);
        const i = abs - log.tokBase;
        if (i >= log.tokHead && log.tokAt[i]! > now - RATE_WINDOW_MS) {
          log.tokSum += actual - log.tokAmount[i]!;
          log.tokAmount[i] = actual;
          log.tokId[i] = null;
        }
      }
      log.slots.delete(ticket.requestId);
    }
  }

  private logFor(id: string): SubjectLog {
    let log = this.logs.get(id);
    if (!log) {
      log = { req: [], reqHead: 0, tokAt: [], tokAmount: [], tokId: [], tokHead: 0, tokBase: 0, open: new Map(), tokSum: 0, slots: new Map(), slotsExpireAt: Infinity };
      this.logs.set(id, log);
    }
    return log;
  }

  /** Forget subjects with nothing in their window, so idle keys do not accumulate. */
  private prune(now: number): void {
    this.prunedAt = now;
    const cut = now - RATE_WINDOW_MS;
    for (const [id, log] of this.logs) {
      expire(log, cut, now);
      if (log.req.length === log.reqHead && log.tokAt.length === log.tokHead && log.open.size === 0 && log.slots.size === 0) this.logs.delete(id);
    }
  }
}

function expire(log: SubjectLog, cut: number, now: number): void {
  while (log.reqHead < log.req.length && log.req[log.reqHead]! <= cut) log.reqHead++;
  if (log.reqHead > 64 && log.reqHead * 2 > log.req.length) {
    dropFront(log.req, log.reqHead);
    log.reqHead = 0;
  }
  while (log.tokHead < log.tokAt.length && log.tokAt[log.tokHead]! <= cut) {
    log.tokSum -= log.tokAmount[log.tokHead]!;
    const id = log.tokId[log.tokHead++];
    if (id) log.open.delete(id);
  }
  if (log.tokHead > 64 && log.tokHead * 2 > log.tokAt.length) {
    dropFront(log.tokAt, log.tokHead);
    dropFront(log.tokAmount, log.tokHead);
    dropFront(log.tokId, log.tokHead);
    log.tokBase += log.tokHead;
    log.tokHead = 0;
  }
  // Leases run for minutes: the slots are walked only when one may have ended, not on every request.
  if (log.slotsExpireAt <= now) {
    let next = Infinity;
    for (const [id, until] of log.slots) {
      if (until <= now) log.slots.delete(id);
      else if (until < next) next = until;
    }
    log.slotsExpireAt = next;
  }
}

/** Removes the first `n` elements in place (splice would also build an array of the removed ones). */
function dropFront(a: unknown[], n: number): void {
  a.copyWithin(0, n);
  a.length -= n;
}

/** How long until enough token entries leave the window for `tokens` to fit. */
function tokenRetry(log: SubjectLog, tokens: number, tpm: number, now: number): number {
  let sum = log.tokSum;
  for (let j = log.tokHead; j < log.tokAt.length; j++) {
    sum -= log.tokAmount[j]!;
    if (sum + tokens <= tpm) return log.tokAt[j]! + RATE_WINDOW_MS - now;
  }
  return RATE_WINDOW_MS;
}

/** The flat answer of `decisionFrom`: the subject with the least remaining wins, per kind. */
function tightest(
  input: RateAdmitInput, s: number[], admitted: boolean, tokens: number, now: number,
  refusedIdx: number, refusedKind: number, retryMs: number,
): number[] {
  const out = [admitted ? 1 : 0, -1, 0, 0, -1, 0, 0, -1, 0, 0, refusedIdx, refusedKind, retryMs];
  const add = admitted ? 1 : 0;
  for (let i = 0; i < input.subjects.length; i++) {
    const subject = input.subjects[i]!;
    tighter(out, 1, limitOf(subject.requestsPerMinute), s[i * 3]! + add, now, false);
    tighter(out, 4, limitOf(subject.tokensPerMinute), s[i * 3 + 1]! + (admitted ? tokens : 0), now, false);
    tighter(out, 7, limitOf(subject.concurrentRequests), s[i * 3 + 2]! + add, now, true);
  }
  return out;
}

/** Puts one subject's limit at `out[o]` (limit, remaining, resetAt) when it leaves less than the one there. */
function tighter(out: number[], o: number, limit: number, used: number, now: number, concurrent: boolean): void {
  if (limit <= 0) return;
  const remaining = limit - used;
  if (out[o]! < 0 || remaining < out[o + 1]! || (remaining === out[o + 1]! && limit < out[o]!)) {
    out[o] = limit;
    out[o + 1] = remaining;
    // A concurrency slot frees as soon as a request ends: its reset is now.
    out[o + 2] = concurrent ? now : used > 0 ? now + RATE_WINDOW_MS : now;
  }
}
