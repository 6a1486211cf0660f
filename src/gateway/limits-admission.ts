import type { ErrorCode } from "../errors/index.js";
import { DEFAULT_RESERVATION_LEASE_MS, creditSubject, periodRange, type BudgetReservation, type BudgetSubject, type ExpiredReservation, type Limits, type RateDecision, type RateState, type RateSubject, type RateTicket, type ReserveInput, type ReserveResult } from "../limits/index.js";
import type { WireDialect } from "../providers/index.js";
import type { BudgetLeaseRow, RateLimits, SpendLimit, Store, UsageEvent } from "../store/index.js";
import type { Admission, AdmissionDecision, AdmissionRequest, AdmissionSettlement } from "./admission.js";
import type { DurableLeases } from "./durable-leases.js";

export interface LimitsAdmissionOptions {
  /** The concurrency of a key whose own rate limits name none (0 or absent: no default). */
  keyConcurrentRequests?: number;
  /** Durable leases (several nodes): written before each reservation, read by counter loads. */
  leases?: DurableLeases;
  /** Their length: the reservation lease. */
  leaseMs?: number;
}

interface OrgState {
  rateLimits: RateLimits | null;
  spendLimit: SpendLimit | null;
  creditsEnabled: boolean;
  loadedAt: number;
}

/** One key record's limit subjects, valid while its workspace and organization records are the same objects. */
interface Subjects {
  workspace: AdmissionRequest["workspace"];
  org: OrgState;
  rate: RateSubject[];
  /** Spend limits, plus the credit balance when credits are on and the key is not a test key. */
  budget: BudgetSubject[];
  /** Who holds a reservation (ReserveInput.owner), built once per key record rather than per request. */
  owner: string;
}

interface Ticket {
  rate: RateTicket | null;
  /** Spend limits and, when credits are on, the credit balance: one reservation. */
  budget: BudgetReservation | null;
}

/**
 * How long organization settings are read from memory. A change through the management API
 * drops them at once on its node and, over the invalidation bus, on the others; this bounds how
 * late a node that missed that message learns of the change.
 */
const ORG_REFRESH_MS = 1_000;

/**
 * Rate limits, spend limits and credits on the gateway's admission seam (DESIGN.md request path
 * steps 3, 4 and 7). Every level — key, workspace, organization — is checked at once; the tightest
 * wins. A refusal at a later step gives back what an earlier step took.
 */
export class LimitsAdmission implements Admission {
  private readonly orgs = new Map<string, OrgState>();
  /**
   * Subjects per key record, built once instead of on every request. Weak: an entry goes with its
   * key record (the verifier replaces the record when the key changes); a new workspace or
   * organization record (a change, or the 2 s refresh) rebuilds it.
   */
  private readonly subjects = new WeakMap<object, Subjects>();

  /**
   * Where lease-expiry charges go: the gateway's usage recorder (main.ts sets it), so a failed
   * insert spools and retries and alerts see them like every other usage; direct inserts without one.
   */
  private recordUsage: ((events: readonly UsageEvent[]) => void) | null = null;
  /** Told of lease-expiry charges written here rather than through the recorder (alerts, metrics). */
  private usageWritten: ((events: readonly UsageEvent[]) => void) | null = null;

  constructor(private readonly limits: Limits, private readonly store: Store, private readonly now: () => number, private readonly defaults: LimitsAdmissionOptions = {}) {}

  /** Send lease-expiry charges through the gateway's usage recorder; `written` hears of those written directly. */
  recordThrough(record: (events: readonly UsageEvent[]) => void, written?: (events: readonly UsageEvent[]) => void): void {
    this.recordUsage = record;
    this.usageWritten = written ?? null;
  }

  /**
   * Without a promise when the organization's settings are cached and both backends are
   * in-process (one node): the common request then admits with no microtask at all.
   */
  admit(r: AdmissionRequest): AdmissionDecision | Promise<AdmissionDecision> {
    const cached = this.freshOrg(r.orgId);
    return cached ? this.admitWith(r, cached) : this.org(r.orgId).then((org) => this.admitWith(r, org));
  }

  settle(_r: AdmissionRequest, raw: unknown, s: AdmissionSettlement): void | Promise<void> {
    const t = raw as Ticket;
    const tokens = s.inputTokens + s.outputTokens + s.cacheWriteTokens + s.cacheReadTokens;
    const { rate, budgets } = this.limits;
    if ((!t.rate || rate.settleSync) && (!t.budget || budgets.settleSync)) {
      if (t.rate) rate.settleSync!(t.rate, tokens);
      if (t.budget) budgets.settleSync!(t.budget, s.costNano);
      return;
    }
    return Promise.all([t.rate ? rate.settle(t.rate, tokens) : null, t.budget ? budgets.settle(t.budget, s.costNano) : null]).then(() => undefined);
  }

  async charge(r: AdmissionRequest, costNano: number): Promise<void> {
    if (costNano <= 0) return;
    const subjects = this.subjectsOf(r, await this.org(r.orgId)).budget;
    if (!subjects.length) return;
    // A settle of a reservation the counters never held adds its cost to each loaded counter
    // (budget.ts); a counter loaded later reads it from the usage record instead.
    const at = this.now();
    const reservation: BudgetReservation = {
      requestId: r.requestId, amountNano: 0, subjects, periodKeys: subjects.map((x) => periodRange(x.period, at).key), reservedAt: at, expiresAt: at, tag: r.orgId, local: false,
      unreserved: true,
    };
    await this.limits.budgets.settle(reservation, costNano);
  }

  /** Rate limits at every level first. */
  private admitWith(r: AdmissionRequest, org: OrgState): AdmissionDecision | Promise<AdmissionDecision> {
    const all = this.subjectsOf(r, org);
    const subjects = all.rate;
    if (!subjects.length) return this.afterRate(r, all, null);
    const input = { subjects, tokens: r.inputTokenBound + r.outputTokenBound, requestId: r.requestId, tag: r.orgId };
    const { rate } = this.limits;
    if (rate.admitSync) return this.afterRate(r, all, rate.admitSync(input));
    return rate.admit(input).then((d) => this.afterRate(r, all, d));
  }

  private subjectsOf(r: AdmissionRequest, org: OrgState): Subjects {
    const hit = this.subjects.get(r.key);
    if (hit && hit.workspace === r.workspace && hit.org === org) return hit;
    const budget = budgetSubjectsOf(r, org);
    // Test keys' usage is simulated (DESIGN.md, key kinds): it never spends credits nor counts
    // against a workspace's or the organization's spend limits; a test key's own limit applies.
    if (org.creditsEnabled && r.key.kind !== "test") budget.push(creditSubject(r.orgId));
    const made: Subjects = {
      workspace: r.workspace, org, rate: rateSubjectsOf(r, org, this.defaults.keyConcurrentRequests ?? 0), budget, owner: `key:${r.key.id} wrk:${r.workspace.id} org:${r.orgId}`,
    };
    this.subjects.set(r.key, made);
    return made;
  }

  /** Then spend limits at every level and the credit balance, in one atomic reservation. */
  private afterRate(r: AdmissionRequest, all: Subjects, rate: RateDecision | null): AdmissionDecision | Promise<AdmissionDecision> {
    if (rate && !rate.admitted) return rateRefusal(rate, r, this.now());
    const ticket: Ticket = { rate: rate?.ticket ?? null, budget: null };
    const headers = rate ? rateHeaders(rate, r.dialect, this.now()) : undefined;
    const subjects = all.budget;
    if (!subjects.length) return { allowed: true, ticket, headers };
    const input: ReserveInput = {
      subjects, amountNano: r.costBoundNano, requestId: r.requestId, tag: r.orgId, owner: all.owner,
    };
    let reserved: ReserveResult | undefined;
    try {
      reserved = this.limits.budgets.reserveSync?.(input);
    } catch (err) {
      return this.giveBackThrowing(ticket, err);
    }
    if (reserved && reserved.outcome !== "needs_load") return this.afterBudget(r, ticket, headers, reserved);
    // The lease is durable before the reservation exists (budget.ts, LOST STATE), hence before the request leaves.
    const leased = this.defaults.leases?.write(this.leaseOf(r, input));
    const reserving = leased ? leased.then(() => this.reserve(input, r)) : this.reserve(input, r);
    return reserving.then((res) => this.afterBudget(r, ticket, headers, res), (err: unknown) => this.giveBackThrowing(ticket, err));
  }

  /**
   * The reservation failed with an error (the store or Redis failing while a counter loads, Redis
   * refusing a script): the rate limits this request already took (its concurrency slot, its
   * request and tokens) are given back before the error goes on, or the slot would stay taken
   * until its lease ran out and the key be refused meanwhile.
   */
  private async giveBackThrowing(ticket: Ticket, err: unknown): Promise<never> {
    await this.giveBack(ticket).catch(() => undefined);
    throw err;
  }

  private leaseOf(r: AdmissionRequest, input: ReserveInput): BudgetLeaseRow {
    const now = this.now();
    return {
      id: r.requestId, org_id: r.orgId, workspace_id: r.workspace.id, key_id: r.key.id, provider: r.provider, model: r.model, endpoint: r.op,
      holder: this.defaults.leases!.holder, amount_nano: Math.max(0, Math.round(input.amountNano)), counters: JSON.stringify(input.subjects.map((s) => [s.id, periodRange(s.period, now).key])),
      owner: input.owner ?? "", reserved_at: now, expires_at: now + (this.defaults.leaseMs ?? DEFAULT_RESERVATION_LEASE_MS),
    };
  }

  private afterBudget(r: AdmissionRequest, ticket: Ticket, headers: Record<string, string> | undefined, res: ReserveResult): AdmissionDecision | Promise<AdmissionDecision> {
    if (res.outcome === "admitted") {
      ticket.budget = res.reservation;
      return { allowed: true, ticket, headers };
    }
    return this.giveBack(ticket).then(() => budgetRefusal(res, r));
  }

  /**
   * The lease rule's usage records: a reservation whose request never settled (its process died)
   * is charged in full, and that charge is written as a usage event with the request's own id and
   * error code `lease_expired`, so reports and the spend counters agree. Sharing the request id
   * means a request that does finish late is recorded once, whichever record lands first.
   */
  async recordExpiredLeases(expired: readonly ExpiredReservation[]): Promise<void> {
    const events: UsageEvent[] = [];
    for (const x of expired) {
      // The owner names the key even when no subject does (a key spending only the credits).
      const ids = new Map([...x.subjects.map((s) => s.id), ...(x.owner?.split(" ") ?? [])].map((s) => s.split(":") as [string, string]));
      const keyId = ids.get("key") ?? null;
      let workspaceId = ids.get("wrk") ?? null;
      let orgId = ids.get("org") ?? ids.get("credits") ?? null;
      if (keyId && (!workspaceId || !orgId)) {
        const key = await this.store.keys.getById(keyId);
        workspaceId ??= key?.workspaceId ?? null;
        orgId ??= key?.orgId ?? null;
      } else if (workspaceId && !orgId) {
        orgId = (await this.store.orgs.getWorkspace(workspaceId))?.orgId ?? null;
      }
      events.push({
        id: x.requestId, at: x.reservedAt, orgId: orgId ?? "unknown", workspaceId: workspaceId ?? "unknown", keyId: keyId ?? "unknown",
        provider: "unknown", model: "unknown", endpoint: "unknown", inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0,
        costNano: x.amountNano, status: 0, errorCode: "lease_expired", streamed: false, aborted: true, latencyMs: x.expiredAt - x.reservedAt, ttfbMs: null,
      });
    }
    if (this.limits.budgets.correct && (await this.chargeOrCorrect(expired, events))) return;
    if (this.recordUsage) this.recordUsage(events);
    else await this.store.usage.insertMany(events);
  }

  /**
   * Shared counters: the charges are written here, so that a request whose own record is in
   * already (its settle was lost with Redis) has its counters corrected to that record instead.
   * False when the database cannot take them now (they go through the recorder, which keeps them).
   */
  private async chargeOrCorrect(expired: readonly ExpiredReservation[], events: UsageEvent[]): Promise<boolean> {
    let written: Set<string>;
    try {
      written = new Set(await this.store.usage.insertNew(events));
    } catch {
      return false;
    }
    this.usageWritten?.(events.filter((e) => written.has(e.id)));
    const others = expired.filter((x) => !written.has(x.requestId));
    if (others.length === 0) return true;
    const costs = await this.store.usage.costs(others.map((x) => x.requestId));
    for (const x of others) {
      const cost = costs.get(x.requestId);
      if (cost !== undefined && cost !== x.amountNano) await this.limits.budgets.correct!(x, cost);
    }
    return true;
  }

  /** Forget cached organization settings (after a change through the management API, here or on another node). */
  invalidate(orgId?: string): void {
    if (orgId) this.orgs.delete(orgId);
    else this.orgs.clear();
  }

  /**
   * Credits were just turned on: the counter is set from the ledger (replacing what it held
   * from an earlier time they were on), before the organization's settings are read again.
   */
  async creditsEnabled(orgId: string): Promise<void> {
    await this.loadCredits(orgId, true);
    this.invalidate(orgId);
  }

  /** Ledger entry `seq` added `amountNano` (a top-up, or a negative adjustment): the counter takes it exactly once. */
  async creditsAdded(orgId: string, amountNano: number, seq: number): Promise<void> {
    await this.limits.credits.topUp(orgId, amountNano, seq);
    this.invalidate(orgId);
  }

  /** A reservation, loading the counters it names (after a restart or a lost Redis) and trying again. */
  private async reserve(input: ReserveInput, r: AdmissionRequest): Promise<ReserveResult> {
    let res = await this.limits.budgets.reserve(input);
    for (let i = 0; i < 2 && res.outcome === "needs_load"; i++) {
      await this.loadSubjects(res.subjects, r);
      res = await this.limits.budgets.reserve(input);
    }
    return res;
  }

  private async giveBack(t: Ticket): Promise<void> {
    await Promise.all([t.rate ? this.limits.rate.settle(t.rate, 0) : null, t.budget ? this.limits.budgets.release(t.budget) : null]);
  }

  /**
   * Seeds a spend counter with its period's spend so far (after a restart or a lost Redis), read
   * the way reports and alerts read it: daily roll-ups plus events not yet rolled up, so events
   * purged after the retention period still count.
   */
  private async loadSubjects(subjects: { id: string }[], r: AdmissionRequest): Promise<void> {
    const org = await this.org(r.orgId);
    for (const s of subjects) {
      if (s.id === creditSubject(r.orgId).id) {
        await this.loadCredits(r.orgId);
        continue;
      }
      const subject = budgetSubjectsOf(r, org).find((b) => b.id === s.id);
      if (!subject) continue;
      const range = periodRange(subject.period, this.now());
      const [kind, id] = subject.id.split(":") as ["key" | "wrk" | "org", string];
      const type = kind === "wrk" ? "workspace" : kind;
      // The records and the open leases in one snapshot: every request is in exactly one of them.
      const [spent, leases] = await this.store.rollups.snapshot(async (trx) => [
        await this.store.rollups.periodSpend([{ type, id }], range.start, Math.min(range.end, Number.MAX_SAFE_INTEGER), trx),
        await this.defaults.leases?.open(subject.id, range.key),
      ] as const);
      await this.limits.budgets.load(subject.id, subject.period, spent.get(`${type}:${id}`) ?? 0, { tag: r.orgId, leases });
    }
  }

  /**
   * The balance as of a ledger entry (charged usage and top-ups), less live usage not charged yet,
   * read in one snapshot; the counter remembers the entry so a top-up it includes is not added again.
   */
  private async loadCredits(orgId: string, replace = false): Promise<void> {
    const [{ account, balanceNano }, leases] = await this.store.rollups.snapshot(async () => [
      await this.store.credits.balance(orgId),
      await this.defaults.leases?.open(creditSubject(orgId).id, "b"),
    ] as const);
    await this.limits.credits.load(orgId, balanceNano, { replace, seq: Number(account?.entries ?? 0), leases });
  }

  private freshOrg(orgId: string): OrgState | undefined {
    const cached = this.orgs.get(orgId);
    return cached && this.now() - cached.loadedAt < ORG_REFRESH_MS ? cached : undefined;
  }

  private async org(orgId: string): Promise<OrgState> {
    const fresh = this.freshOrg(orgId);
    if (fresh) return fresh;
    const now = this.now();
    const cached = this.orgs.get(orgId);
    let org, account;
    try {
      [org, account] = await Promise.all([this.store.orgs.getOrganizationById(orgId), this.store.credits.getAccount(orgId)]);
    } catch (err) {
      // The database is down: the limits last read keep applying (the counters themselves live on).
      if (cached) return cached;
      throw err;
    }
    // The credit counter is not reloaded here: a reload replacing it would drop the spend of
    // requests settled but not yet written (see limits/credits.ts); top-ups reach it exactly.
    const state: OrgState = { rateLimits: org?.rateLimits ?? null, spendLimit: org?.spendLimit ?? null, creditsEnabled: account?.enabled_at != null, loadedAt: now };
    this.orgs.set(orgId, state);
    return state;
  }
}

function rateRefusal(rate: RateDecision, r: AdmissionRequest, now: number): AdmissionDecision {
  const x = rate.refused!;
  const code: ErrorCode = x.reason === "unavailable" ? "store_unavailable" : "rate_limited";
  const what = x.kind === "requests" ? "requests per minute" : x.kind === "tokens" ? "tokens per minute" : "concurrent requests";
  const message = x.reason === "unavailable"
    ? "Rate limits cannot be checked right now; try again shortly."
    : x.exceedsLimit
      ? `This request alone needs more than the ${what} limit (${x.limit}) of ${describe(x.subject)}; lower max_tokens.`
      : `Rate limit of ${x.limit} ${what} reached for ${describe(x.subject)}. Try again in ${x.retryAfterSeconds}s.`;
  const limit = x.reason === "unavailable" ? "limits_unavailable" : `${level(x.subject)}_${x.kind === "requests" ? "requests_per_minute" : x.kind === "tokens" ? "tokens_per_minute" : "concurrent_requests"}`;
  return { allowed: false, code, message, retryAfterSeconds: x.retryAfterSeconds, headers: rateHeaders(rate, r.dialect, now), limit };
}

function budgetRefusal(res: Exclude<ReserveResult, { outcome: "admitted" }>, r: AdmissionRequest): AdmissionDecision {
  if (res.outcome === "refused" && res.period === "balance") {
    return { allowed: false, code: "insufficient_credits", limit: "org_credits", message: `Your credit balance is too low for this request (it could cost up to $${usd(r.costBoundNano)}). Add credits to continue.` };
  }
  if (res.outcome === "refused") {
    return { allowed: false, code: "spend_limit_reached", limit: `${level(res.subject)}_spend_limit`, message: `This request could cost up to $${usd(r.costBoundNano)}, more than remains of the spend limit of ${describe(res.subject)} ($${usd(res.limitNano - res.spentNano - res.openNano)} of $${usd(res.limitNano)} this ${res.period}).` };
  }
  return { allowed: false, code: "store_unavailable", limit: "limits_unavailable", message: "Spend limits and credits cannot be checked right now; the request was not sent." };
}

function rateSubjectsOf(r: AdmissionRequest, org: OrgState, keyConcurrency: number): RateSubject[] {
  const out: RateSubject[] = [];
  const add = (id: string, l: RateLimits | null) => {
    if (l && (l.requestsPerMinute || l.tokensPerMinute || l.concurrentRequests)) out.push({ id, ...l });
  };
  const own = r.key.rateLimits;
  add(`key:${r.key.id}`, keyConcurrency > 0 && !own?.concurrentRequests
    ? { requestsPerMinute: own?.requestsPerMinute ?? null, tokensPerMinute: own?.tokensPerMinute ?? null, concurrentRequests: keyConcurrency }
    : own);
  add(`wrk:${r.workspace.id}`, r.workspace.rateLimits);
  add(`org:${r.orgId}`, org.rateLimits);
  return out;
}

function budgetSubjectsOf(r: AdmissionRequest, org: OrgState): BudgetSubject[] {
  const out: BudgetSubject[] = [];
  const add = (id: string, l: SpendLimit | null) => {
    if (l) out.push({ id, limitNano: l.amountNano, period: l.period });
  };
  add(`key:${r.key.id}`, r.key.spendLimit);
  if (r.key.kind === "test") return out;
  add(`wrk:${r.workspace.id}`, r.workspace.spendLimit);
  add(`org:${r.orgId}`, org.spendLimit);
  return out;
}

function describe(subject: string): string {
  const [kind, id] = subject.split(":");
  return kind === "key" ? `key ${id}` : kind === "wrk" ? `workspace ${id}` : `the organization`;
}

/** A subject's level in a bounded word for labels: key, workspace or org. */
function level(subject: string): string {
  const kind = subject.slice(0, subject.indexOf(":"));
  return kind === "key" ? "key" : kind === "wrk" ? "workspace" : "org";
}

function usd(nano: number): string {
  return (Math.max(0, nano) / 1e9).toFixed(4);
}

const ANTHROPIC_NAMES = {
  requests: ["anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset"],
  tokens: ["anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset"],
  input: ["anthropic-ratelimit-input-tokens-limit", "anthropic-ratelimit-input-tokens-remaining", "anthropic-ratelimit-input-tokens-reset"],
  output: ["anthropic-ratelimit-output-tokens-limit", "anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset"],
} as const;
const ANTHROPIC_TOKEN_NAMES = [ANTHROPIC_NAMES.tokens, ANTHROPIC_NAMES.input, ANTHROPIC_NAMES.output] as const;
const OPENAI_NAMES = {
  requests: ["x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"],
  tokens: ["x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"],
} as const;

// Resets are whole seconds in RFC 3339; consecutive requests mostly share one, so it is formatted once.
let isoSecond = -1;
let isoText = "";
function isoAt(ms: number): string {
  const second = Math.ceil(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoText = new Date(second * 1000).toISOString().replace(".000Z", "Z");
  }
  return isoText;
}

/**
 * The caller's dialect's rate-limit headers (Gemini has none): Anthropic's with RFC 3339 resets,
 * OpenAI's with duration resets. Built on every admitted request, so kept to plain string work.
 */
function rateHeaders(d: RateDecision, dialect: WireDialect, now: number): Record<string, string> | undefined {
  if (dialect === "gemini") return undefined;
  const h: Record<string, string> = {};
  if (dialect === "anthropic") {
    if (d.requests) put(h, ANTHROPIC_NAMES.requests, d.requests, isoAt(d.requests.resetAt));
    if (d.tokens) {
      // Anthropic reports tokens, input tokens and output tokens; here they are one limit, so the
      // three share their strings.
      const limit = String(d.tokens.limit);
      const remaining = String(d.tokens.remaining > 0 ? d.tokens.remaining : 0);
      const reset = isoAt(d.tokens.resetAt);
      for (const names of ANTHROPIC_TOKEN_NAMES) {
        h[names[0]] = limit;
        h[names[1]] = remaining;
        h[names[2]] = reset;
      }
    }
  } else {
    if (d.requests) put(h, OPENAI_NAMES.requests, d.requests, duration(d.requests.resetAt - now));
    if (d.tokens) put(h, OPENAI_NAMES.tokens, d.tokens, duration(d.tokens.resetAt - now));
  }
  return h;
}

function put(h: Record<string, string>, names: readonly [string, string, string], s: RateState, reset: string): void {
  h[names[0]] = String(s.limit);
  h[names[1]] = String(s.remaining > 0 ? s.remaining : 0);
  h[names[2]] = reset;
}

/** OpenAI-style duration: "12ms", "1.5s", "6m0s". */
function duration(ms: number): string {
  if (ms <= 0) return "0ms";
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
