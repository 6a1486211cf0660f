import { objectEnd, objectValueStart } from "./json-scan.js";
import type { TokenUsage, WireDialect } from "./types.js";

const USAGE = Buffer.from('"usage');
const USAGE_KEY = '"usage"'.length;
const USAGE_METADATA_KEY = '"usageMetadata"'.length;
const METADATA = Buffer.from('Metadata"');
const DELTA = Buffer.from('"delta"');
const TEXT = Buffer.from('"text"');
const EMPTY_CHOICES = Buffer.from('"choices":[]');
const TAIL_BYTES = 16 * 1024;
const MAX_CARRY = 8 * 1024 * 1024;
const NL = 0x0a;

export interface MeterReading {
  usage: TokenUsage;
  /** True when the response carried a usage object. */
  reported: boolean;
  /** Content deltas seen in a stream: a floor for output tokens when the stream was cut. */
  deltas: number;
}

/**
 * Reads usage while bytes pass through. JSON bodies keep only their tail (usage comes last);
 * streams are scanned for the usage key with `Buffer.indexOf` and only the usage object is
 * decoded, never the events around it (DESIGN.md, hot-path lessons). With `strip`, the extra
 * usage-only chunk that `stream_options.include_usage` adds is removed from the bytes sent on.
 */
export class UsageMeter {
  private carry: Buffer | null = null;
  private tail: Buffer | null = null;
  private first: string | null = null;
  private last: string | null = null;
  private deltas = 0;

  constructor(
    private readonly dialect: WireDialect,
    private readonly sse: boolean,
    private readonly strip = false,
  ) {}

  /** Scans a chunk; returns the bytes to send on (the chunk itself unless stripping). */
  push(chunk: Buffer): Buffer {
    if (!this.sse) {
      this.keepTail(chunk);
      return chunk;
    }
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    const complete = buf.lastIndexOf(NL) + 1;
    if (complete < buf.length && buf.length - complete <= MAX_CARRY) this.carry = Buffer.from(buf.subarray(complete));
    this.countDeltas(buf, complete);
    const usageLine = this.scan(buf, complete);
    if (!this.strip) return chunk;
    if (usageLine < 0) return buf.subarray(0, complete);
    return dropLine(buf.subarray(0, complete), usageLine);
  }

  /** Bytes held back while stripping (an unfinished line); sent when the stream ends. */
  flushCarry(): Buffer | null {
    const c = this.strip ? this.carry : null;
    this.carry = null;
    return c;
  }

  read(): MeterReading {
    if (!this.sse && this.tail) {
      const at = this.tail.lastIndexOf(USAGE);
      if (at >= 0) this.capture(this.tail, at, this.tail.length);
    }
    const a = toUsage(this.dialect, this.first);
    const b = toUsage(this.dialect, this.last);
    // Anthropic splits usage between message_start and cumulative message_delta; the others send
    // a complete, cumulative object each time, so the last one is the answer.
    const usage = a && b && this.dialect === "anthropic"
      ? { input: Math.max(a.input, b.input), output: Math.max(a.output, b.output), cacheWrite: Math.max(a.cacheWrite, b.cacheWrite), cacheRead: Math.max(a.cacheRead, b.cacheRead) }
      : (b ?? a ?? { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 });
    return { usage, reported: a !== null || b !== null, deltas: this.deltas };
  }

  /** Finds usage objects among complete lines; returns the start of a usage-only chunk to strip, or -1. */
  private scan(buf: Buffer, end: number): number {
    let strip = -1;
    let at = buf.indexOf(USAGE, 0);
    while (at >= 0 && at < end) {
      const objEnd = this.capture(buf, at, end);
      if (this.strip && objEnd > 0) {
        const lineStart = buf.lastIndexOf(NL, at) + 1;
        const lineEnd = buf.indexOf(NL, at);
        if (buf.subarray(lineStart, lineEnd).includes(EMPTY_CHOICES)) strip = lineStart;
      }
      at = buf.indexOf(USAGE, at + USAGE.length);
    }
    return strip;
  }

  /** Keeps the object value of the usage key at `at`; returns where it ends, or -1. */
  private capture(buf: Buffer, at: number, end: number): number {
    const isMetadata = buf.subarray(at + USAGE.length, at + USAGE.length + METADATA.length).equals(METADATA);
    if (!isMetadata && buf[at + USAGE.length] !== 0x22) return -1;
    const start = objectValueStart(buf, at, isMetadata ? USAGE_METADATA_KEY : USAGE_KEY, end);
    if (start < 0) return -1;
    const stop = objectEnd(buf, start, end);
    if (stop < 0) return -1;
    const text = buf.toString("utf8", start, stop);
    if (this.first === null) this.first = text;
    else this.last = text;
    return stop;
  }

  private countDeltas(buf: Buffer, end: number): void {
    const marker = this.dialect === "gemini" ? TEXT : DELTA;
    let at = buf.indexOf(marker, 0);
    while (at >= 0 && at < end) {
      this.deltas++;
      at = buf.indexOf(marker, at + marker.length);
    }
  }

  private keepTail(chunk: Buffer): void {
    if (chunk.length >= TAIL_BYTES || !this.tail) {
      this.tail = chunk.length > TAIL_BYTES ? Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES)) : Buffer.from(chunk);
      return;
    }
    const joined = Buffer.concat([this.tail, chunk]);
    this.tail = joined.length > TAIL_BYTES ? joined.subarray(joined.length - TAIL_BYTES) : joined;
  }
}

/** The line starting at `lineStart` and the blank line after it, removed. */
function dropLine(buf: Buffer, lineStart: number): Buffer {
  let end = buf.indexOf(NL, lineStart) + 1;
  if (buf[end] === NL) end++;
  else if (buf[end] === 0x0d && buf[end + 1] === NL) end += 2;
  return Buffer.concat([buf.subarray(0, lineStart), buf.subarray(end)]);
}

type Json = Record<string, unknown>;
const n = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** One usage object of a dialect, as billed tokens; null when absent or unreadable. */
export function toUsage(dialect: WireDialect, text: string | null): TokenUsage | null {
  if (text === null) return null;
  let u: Json;
  try {
    u = JSON.parse(text) as Json;
  } catch {
    return null;
  }
  switch (dialect) {
    case "anthropic":
      return { input: n(u.input_tokens), output: n(u.output_tokens), cacheWrite: n(u.cache_creation_input_tokens), cacheRead: n(u.cache_read_input_tokens) };
    case "openai": {
      // Chat and embeddings say prompt/completion; the Responses API says input/output.
      const details = (u.prompt_tokens_details ?? u.input_tokens_details ?? {}) as Json;
      const cacheRead = n(details.cached_tokens);
      const cacheWrite = n(details.cache_write_tokens);
      const prompt = n(u.prompt_tokens ?? u.input_tokens);
      return { input: Math.max(0, prompt - cacheRead - cacheWrite), output: n(u.completion_tokens ?? u.output_tokens), cacheWrite, cacheRead };
    }
    case "gemini": {
      const cacheRead = n(u.cachedContentTokenCount);
      return { input: Math.max(0, n(u.promptTokenCount) + n(u.toolUsePromptTokenCount) - cacheRead), output: n(u.candidatesTokenCount) + n(u.thoughtsTokenCount), cacheWrite: 0, cacheRead };
    }
  }
}
