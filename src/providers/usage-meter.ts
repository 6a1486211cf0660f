import { objectEnd, objectValueStart } from "./json-scan.js";
import type { TokenUsage, WireDialect } from "./types.js";

const USAGE = '"usage';
/** Keys are searched for by name, then their opening quote checked: see `keyAt`. */
const USAGE_NAME = USAGE.slice(1);
const USAGE_KEY = '"usage"'.length;
const USAGE_METADATA_KEY = '"usageMetadata"'.length;
const METADATA = 'Metadata"';
const METADATA_BYTES = Buffer.from(METADATA);
const DELTA_NAME = 'delta"';
const TEXT_NAME = 'text"';
const QUOTE = 0x22;
const EMPTY_CHOICES = '"choices":[]';
const TAIL_BYTES = 16 * 1024;
const MAX_CARRY = 8 * 1024 * 1024;
const NL = 0x0a;
const CR = 0x0d;

/**
 * Where the first `"name` (a key, or a string) at or after `from` starts, at its quote; -1 if none.
 * Searched for by the name and then the quote before it checked: V8 finds a short pattern by its
 * first character, and the quote that opens every key and string of JSON stopped the search at
 * each of them: a 22-event stream's searches took 5.0-5.3 µs of the main thread, now 2.1-2.3
 * (perf's CPU samples of `StringIndexOf` and `memchr`, two runs each).
 */
export function keyAt(text: string, name: string, from: number): number {
  let at = text.indexOf(name, from + 1);
  while (at > 0 && text.charCodeAt(at - 1) !== QUOTE) at = text.indexOf(name, at + 1);
  return at > 0 ? at - 1 : -1;
}

export interface MeterReading {
  usage: TokenUsage;
  /** True when the response carried a usage object. */
  reported: boolean;
  /** Content deltas seen in a stream: a floor for output tokens when the stream was cut. */
  deltas: number;
}

/**
 * Reads usage while bytes pass through. JSON bodies keep only their tail (usage comes last);
 * streams are scanned for the usage key and only the usage object is decoded, never the events
 * around it (DESIGN.md, hot-path lessons). With `strip`, the extra usage-only chunk that
 * `stream_options.include_usage` adds is removed from the bytes sent on.
 *
 * A stream chunk is searched as a latin1 string: one character a byte, so an index in it is the
 * same index in the buffer, and V8 searches a string without a call into C++. A chunk is usually
 * one event of a hundred-odd bytes, for which the four or five `Buffer.indexOf` calls it took cost
 * more in the binding than in the search: metering a 22-event stream took about 10 µs, now about 7.
 */
export class UsageMeter {
  private carry: Buffer | null = null;
  private tail: Buffer | null = null;
  private first: string | null = null;
  private last: string | null = null;
  private deltas = 0;
  /** A stripped usage line's blank line had not arrived: the next complete line, if blank, goes too. */
  private blankPending = false;

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
    const text = buf.toString("latin1");
    const complete = text.lastIndexOf("\n") + 1;
    if (complete < buf.length && buf.length - complete <= MAX_CARRY) this.carry = Buffer.from(buf.subarray(complete));
    this.countDeltas(text, complete);
    const usageLine = this.scan(buf, text, complete);
    if (!this.strip) return chunk;
    let skip = 0;
    if (this.blankPending && complete > 0) {
      this.blankPending = false;
      skip = buf[0] === NL ? 1 : buf[0] === CR && buf[1] === NL ? 2 : 0;
    }
    return this.stripped(buf.subarray(skip, complete), usageLine < 0 ? -1 : usageLine - skip);
  }

  /** Complete lines with the usage-only line at `usageLine` (if not -1) and the blank line after it removed. */
  private stripped(lines: Buffer, usageLine: number): Buffer {
    if (usageLine < 0) return lines;
    let end = lines.indexOf(NL, usageLine) + 1;
    if (end === lines.length) this.blankPending = true;
    else if (lines[end] === NL) end++;
    else if (lines[end] === CR && lines[end + 1] === NL) end += 2;
    return Buffer.concat([lines.subarray(0, usageLine), lines.subarray(end)]);
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
      if (at >= 0) {
        const key = at + USAGE.length;
        this.capture(this.tail, at, this.tail.length, this.tail.subarray(key, key + METADATA_BYTES.length).equals(METADATA_BYTES));
      }
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

  /**
   * Finds usage objects among complete lines (`text` is `buf` as latin1); returns the start of a
   * usage-only chunk to strip, or -1.
   */
  private scan(buf: Buffer, text: string, end: number): number {
    let strip = -1;
    let at = keyAt(text, USAGE_NAME, 0);
    while (at >= 0 && at < end) {
      const objEnd = this.capture(buf, at, end, text.startsWith(METADATA, at + USAGE.length));
      if (this.strip && objEnd > 0) {
        const lineStart = text.lastIndexOf("\n", at) + 1;
        const lineEnd = text.indexOf("\n", at);
        const choices = text.indexOf(EMPTY_CHOICES, lineStart);
        if (choices >= 0 && choices + EMPTY_CHOICES.length <= lineEnd) strip = lineStart;
      }
      at = keyAt(text, USAGE_NAME, at + USAGE.length);
    }
    return strip;
  }

  /** Keeps the object value of the usage key at `at` (`"usageMetadata"` or not); returns where it ends, or -1. */
  private capture(buf: Buffer, at: number, end: number, isMetadata: boolean): number {
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

  private countDeltas(text: string, end: number): void {
    const name = this.dialect === "gemini" ? TEXT_NAME : DELTA_NAME;
    let at = keyAt(text, name, 0);
    while (at >= 0 && at < end) {
      this.deltas++;
      // Past the quote and the name.
      at = keyAt(text, name, at + 1 + name.length);
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
