import type { Redis } from "ioredis";
import { originFamily, safeId, type CanonicalRequest, type Part, type StreamEvent, type ThinkingPart } from "../providers/index.js";

/**
 * Signed reasoning kept for Chat Completions callers (README, "What survives translation"). Chat
 * has no standard field for Anthropic's thinking blocks: they go out as `thinking_blocks`, but most
 * clients drop fields they do not know when they rebuild the history, and Anthropic refuses a tool
 * loop with thinking on whose last assistant turn comes back without its signed block. So the
 * blocks of an assistant turn that called tools are also kept here for an hour under the turn's tool
 * call ids, scoped to the organization (one tenant can never have another's blocks replayed), and
 * put back when a later request's assistant turn carries those ids and no blocks of its own.
 */
export interface ReasoningKeep {
  /** Keeps a turn's signed blocks under each of its tool call ids. */
  put(orgId: string, callIds: readonly string[], blocks: readonly ThinkingPart[]): Promise<void>;
  /** The blocks kept under each id (null where none are), in the ids' order. */
  get(orgId: string, callIds: readonly string[]): Promise<(ThinkingPart[] | null)[]>;
}

export const KEEP_TTL_MS = 3_600_000;
/** A turn's blocks larger than this are not kept (the caller still has them as `thinking_blocks`). */
const MAX_TURN_BYTES = 1 << 20;

const keyOf = (orgId: string, callId: string): string => `${orgId}\u0000${callId}`;

function parse(v: string | null | undefined): ThinkingPart[] | null {
  if (!v) return null;
  try {
    const blocks = JSON.parse(v) as ThinkingPart[];
    return Array.isArray(blocks) ? blocks : null;
  } catch {
    return null;
  }
}

/** One node's keep: bounded in bytes, oldest first out, each turn forgotten after the TTL. */
export class MemoryReasoningKeep implements ReasoningKeep {
  private readonly turns = new Map<string, { until: number; json: string }>();
  private bytes = 0;

  constructor(private readonly now: () => number, private readonly maxBytes = 32 << 20) {}

  async put(orgId: string, callIds: readonly string[], blocks: readonly ThinkingPart[]): Promise<void> {
    const json = JSON.stringify(blocks);
    if (json.length > MAX_TURN_BYTES) return;
    const until = this.now() + KEEP_TTL_MS;
    for (const id of callIds) {
      this.drop(keyOf(orgId, id));
      while (this.bytes + json.length > this.maxBytes && this.turns.size) this.drop(this.turns.keys().next().value!);
      this.turns.set(keyOf(orgId, id), { until, json });
      this.bytes += json.length;
    }
  }

  async get(orgId: string, callIds: readonly string[]): Promise<(ThinkingPart[] | null)[]> {
    const now = this.now();
    return callIds.map((id) => {
      const t = this.turns.get(keyOf(orgId, id));
      if (t && now >= t.until) this.drop(keyOf(orgId, id));
      return t && now < t.until ? parse(t.json) : null;
    });
  }

  private drop(key: string): void {
    const t = this.turns.get(key);
    if (!t) return;
    this.bytes -= t.json.length;
    this.turns.delete(key);
  }
}

/**
 * The keep in Redis, so any node can restore what another kept; while Redis cannot be reached the
 * node keeps and looks up on its own, as a single node would.
 */
export class RedisReasoningKeep implements ReasoningKeep {
  private readonly local: MemoryReasoningKeep;

  constructor(private readonly redis: Redis, private readonly prefix: string, now: () => number) {
    this.local = new MemoryReasoningKeep(now);
  }

  private key(orgId: string, callId: string): string {
    return `${this.prefix}thinking:${orgId}:${callId}`;
  }

  async put(orgId: string, callIds: readonly string[], blocks: readonly ThinkingPart[]): Promise<void> {
    const json = JSON.stringify(blocks);
    if (json.length > MAX_TURN_BYTES || callIds.length === 0) return;
    try {
      const m = this.redis.multi();
      for (const id of callIds) m.set(this.key(orgId, id), json, "PX", KEEP_TTL_MS);
      await m.exec();
    } catch {
      await this.local.put(orgId, callIds, blocks);
    }
  }

  async get(orgId: string, callIds: readonly string[]): Promise<(ThinkingPart[] | null)[]> {
    if (callIds.length === 0) return [];
    try {
      const values = await this.redis.mget(...callIds.map((id) => this.key(orgId, id)));
      return values.map(parse);
    } catch {
      return this.local.get(orgId, callIds);
    }
  }
}

/** Anthropic's signed blocks and the tool call ids of one answer, gathered as a Chat caller sees them. */
export class SignedTurn {
  readonly calls: string[] = [];
  readonly blocks: ThinkingPart[] = [];
  private thought = "";

  /** A stream event of the answer. */
  event(ev: StreamEvent): void {
    if (ev.type === "part_start") {
      if (ev.kind === "thinking") this.thought = "";
      else if (ev.kind === "tool_call") this.calls.push(safeId(ev.id ?? ""));
    } else if (ev.type === "thinking") this.thought += ev.text;
    else if (ev.type === "signature" && originFamily(ev.origin) === "anthropic") {
      this.blocks.push({ type: "thinking", text: ev.redacted ? "" : this.thought, signature: ev.signature, origin: ev.origin, ...(ev.redacted ? { redacted: true } : {}) });
    }
  }

  /** The parts of a whole answer. */
  parts(parts: readonly Part[]): void {
    for (const p of parts) {
      if (p.type === "tool_call") this.calls.push(safeId(p.id));
      else if (p.type === "thinking" && originFamily(p.origin) === "anthropic" && p.signature) this.blocks.push(p);
    }
  }

  get worthKeeping(): boolean {
    return this.calls.length > 0 && this.blocks.length > 0;
  }
}

/** Assistant turns that call tools and carry no signed reasoning of their own. */
function unsignedCallTurns(r: CanonicalRequest): { index: number; callId: string }[] {
  const out: { index: number; callId: string }[] = [];
  r.messages.forEach((m, index) => {
    if (m.role !== "assistant") return;
    const call = m.parts.find((p) => p.type === "tool_call");
    if (call && !m.parts.some((p) => p.type === "thinking" && p.signature)) out.push({ index, callId: safeId(call.id) });
  });
  return out;
}

const thinkingOn = (r: CanonicalRequest): boolean =>
  r.reasoning !== null && r.reasoning.budget !== 0 && r.reasoning.effort !== "none";

/** Puts kept blocks back before the tool calls of the turns that came back without them. */
export async function restoreKept(keep: ReasoningKeep, orgId: string, r: CanonicalRequest): Promise<void> {
  // Without thinking Anthropic takes a history without its blocks: no lookup (a Redis round trip) needed.
  if (!thinkingOn(r)) return;
  const turns = unsignedCallTurns(r);
  if (turns.length === 0) return;
  const kept = await keep.get(orgId, turns.map((t) => t.callId));
  turns.forEach((t, i) => {
    const blocks = kept[i];
    if (blocks?.length) r.messages[t.index]!.parts.unshift(...blocks);
  });
}

/**
 * With thinking on, Anthropic refuses a history whose last assistant turn called tools without its
 * signed thinking block. When that block is gone (the client dropped it and the keep no longer has
 * it, or another model wrote it), thinking is turned off for this turn alone and the caller is told
 * why; null when nothing was changed.
 */
export function thinkingOffForLostBlocks(r: CanonicalRequest, origin: string): string | null {
  if (!thinkingOn(r)) return null;
  const last = r.messages.findLastIndex((m) => m.role === "assistant");
  const m = r.messages[last];
  if (!m || !m.parts.some((p) => p.type === "tool_call")) return null;
  if (m.parts.some((p) => p.type === "thinking" && p.origin === origin && p.signature)) return null;
  r.reasoning = null;
  return "thinking off for this turn: the last assistant turn's tool calls came back without this model's signed thinking (not sent back, written by another model, or no longer kept), and Anthropic refuses thinking on such a history";
}
