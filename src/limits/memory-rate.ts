import type { Clock } from "../lib/index.js";
import { LinkedList, systemClock } from "../lib/index.js";
import {
  DEFAULT_SLOT_LEASE_MS, RATE_WINDOW_MS, decisionFrom, limitOf,
  type RateAdmitInput, type RateDecision, type RateLimiter, type RateTicket,
} from "./rate.js";
import { TimeLog } from "./time-log.js";

/**
 * One subject's sliding logs: request times, and token amounts with their times (see TimeLog),
 * and the concurrency slots held now.
 */
interface SubjectLog {
  req: TimeLog;
  tok: TimeLog;
  /** Slots held: their holds, in the order they were taken; a settle unlinks its own. */
  slots: LinkedList<Hold>;
  /** The earliest lease end among the slots (or later): until then no slot can have expired. */
  slotsExpireAt: number;
}

/**
 * What one admitted request holds in one subject's log: its token entry (the absolute index in
 * `tok`, which a settle corrects to the real count; -1 without a token limit) and, with a
 * concurrency limit, a slot until `until`. The request's ticket carries its holds, so a settle
 * finds them without a lookup (two maps keyed by request id did that before: see LinkedList for
 * why not; about 220 bytes a request reached the old generation through them).
 */
class Hold {
  prev: Hold | null = null;
  next: Hold | null = null;
  /** Linked among its log's slots (until settled or its lease ends). */
  slot = false;
  settled = false;
  constructor(readonly log: SubjectLog, readonly entry: number, readonly until: number) {}
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
  // Reused scratch space: per subject [reqCount, tokSum, slotCount] before this request.
  private scratch: number[] = [];
  // The flat answer, reused too: every caller reads it (decisionFrom) before the next admit.
  private readonly answer: number[] = [0, -1, 0, 0, -1, 0, 0, -1, 0, 0, -1, -1, 0];

  constructor(options: MemoryRateOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.defaultLeaseMs = options.defaultLeaseMs ?? DEFAULT_SLOT_LEASE_MS;
  }

  admit(input: RateAdmitInput): Promise<RateDecision> {
    return Promise.resolve(this.admitSync(input));
  }

  admitSync(input: RateAdmitInput): RateDecision {
    return this.decide(input, this.clock.now(), false);
  }

  /** An admit's decision at `now`, its ticket carrying the request's holds; the fallback limiter of `resilient.ts` uses it too. */
  decide(input: RateAdmitInput, now: number, local: boolean): RateDecision {
    const holds: Hold[] = [];
    return decisionFrom(this.admitRaw(input, now, holds), input, now, local, holds);
  }

  /**
   * The flat answer (this limiter's own array, overwritten by the next admit: read it before);
   * an admitted request's holds are added to `holds`.
   */
  private admitRaw(input: RateAdmitInput, now: number, holds: Hold[]): number[] {
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
      const reqCount = log.req.size;
      const tokSum = log.tok.sum;
      s.push(reqCount, tokSum, log.slots.size);
      let retry = -2, kind = -1;
      if (rpm > 0 && reqCount + 1 > rpm) {
        kind = 0;
        retry = log.req.timeAt(reqCount - rpm) + RATE_WINDOW_MS - now;
      }
      if (tpm > 0 && tokSum + tokens > tpm) {
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
        const entry = limitOf(subject.tokensPerMinute) > 0 ? log.tok.push(now, tokens) : -1;
        const slot = limitOf(subject.concurrentRequests) > 0;
        if (entry < 0 && !slot) continue;
        const hold = new Hold(log, entry, now + lease);
        if (slot) take(log, hold);
        holds.push(hold);
      }
    }
    return tightest(this.answer, input, s, admitted, tokens, now, refusedIdx, refusedKind, retryMs);
  }

  settle(ticket: RateTicket, actualTokens: number): Promise<void> {
    this.settleSync(ticket, actualTokens);
    return Promise.resolve();
  }

  settleSync(ticket: RateTicket, actualTokens: number): void {
    this.settleNow(ticket, actualTokens, this.clock.now());
  }

  /** Corrects the request's token entries and frees its slots; a ticket this limiter did not issue holds nothing here. */
  settleNow(ticket: RateTicket, actualTokens: number, now: number): void {
    const holds = ticket.hold;
    if (!Array.isArray(holds)) return;
    const actual = Math.max(0, Math.ceil(actualTokens));
    for (const h of holds as Hold[]) {
      if (h.settled) continue;
      h.settled = true;
      // An entry that has left the window (or whose log was pruned since) is not corrected.
      if (h.entry >= 0) h.log.tok.correct(h.entry, actual, now - RATE_WINDOW_MS);
      if (h.slot) free(h.log, h);
    }
  }

  /** Concurrency slots `subject` holds now (leases not yet ended). */
  openSlots(subject: string): number {
    const log = this.logs.get(subject);
    if (!log) return 0;
    const now = this.clock.now();
    let n = 0;
    for (let h = log.slots.first; h; h = h.next) if (h.until > now) n++;
    return n;
  }

  private logFor(id: string): SubjectLog {
    let log = this.logs.get(id);
    if (!log) {
      log = { req: new TimeLog(false), tok: new TimeLog(true), slots: new LinkedList(), slotsExpireAt: Infinity };
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
      if (log.req.size === 0 && log.tok.size === 0 && log.slots.size === 0) this.logs.delete(id);
    }
  }
}

function expire(log: SubjectLog, cut: number, now: number): void {
  log.req.expire(cut);
  log.tok.expire(cut);
  // Leases run for minutes: the slots are walked only when one may have ended, not on every request.
  if (log.slotsExpireAt <= now) {
    let next = Infinity;
    for (let h = log.slots.first, after: Hold | null; h; h = after) {
      after = h.next;
      if (h.until <= now) free(log, h);
      else if (h.until < next) next = h.until;
    }
    log.slotsExpireAt = next;
  }
}

/** Takes a slot of `log` for `h`. */
function take(log: SubjectLog, h: Hold): void {
  h.slot = true;
  log.slots.append(h);
  if (h.until < log.slotsExpireAt) log.slotsExpireAt = h.until;
}

/** Frees the slot `h` holds in `log`: settled, or its lease ended. */
function free(log: SubjectLog, h: Hold): void {
  h.slot = false;
  log.slots.remove(h);
}

/** How long until enough token entries leave the window for `tokens` to fit. */
function tokenRetry(log: SubjectLog, tokens: number, tpm: number, now: number): number {
  let sum = log.tok.sum;
  for (let k = 0; k < log.tok.size; k++) {
    sum -= log.tok.amountAt(k);
    if (sum + tokens <= tpm) return log.tok.timeAt(k) + RATE_WINDOW_MS - now;
  }
  return RATE_WINDOW_MS;
}

/** The flat answer of `decisionFrom`: the subject with the least remaining wins, per kind. */
function tightest(
  out: number[], input: RateAdmitInput, s: number[], admitted: boolean, tokens: number, now: number,
  refusedIdx: number, refusedKind: number, retryMs: number,
): number[] {
  out[0] = admitted ? 1 : 0;
  out[1] = -1; out[2] = 0; out[3] = 0;
  out[4] = -1; out[5] = 0; out[6] = 0;
  out[7] = -1; out[8] = 0; out[9] = 0;
  out[10] = refusedIdx; out[11] = refusedKind; out[12] = retryMs;
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
