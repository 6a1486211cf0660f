import type { Json, StreamEvent } from "./canonical.js";
import type { StreamDecoder } from "./codec.js";

export function sse(event: string | null, data: unknown): string {
  const json = JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${json}\n\n` : `data: ${json}\n\n`;
}

/**
 * The skeleton every dialect's stream decoder shares: upstream bytes → SSE frames → JSON objects →
 * canonical events, for translated streams only (pass-through streams are never parsed: DESIGN.md,
 * hot-path lessons). A dialect supplies `frame` (one parsed object) and, for its most frequent
 * frames, `fast`, which may read a frame's data without parsing it whole. A frame that is not JSON
 * carries nothing of ours and is skipped.
 *
 * Measured per stream, the generic parts used to cost more than the dialect's work: a TextDecoder
 * (about 4 µs to make, one per stream) and a frame object per event. Bytes are now decoded by
 * `Buffer#toString` with the bytes of a character split across chunks carried over, and each
 * frame's data is cut straight out of the text.
 */
export abstract class SseJsonDecoder implements StreamDecoder {
  done = false;
  /** Decoded text not yet ending in a blank line. */
  private text = "";
  /** The first bytes of a UTF-8 character whose rest is in the next chunk. */
  private carry: Buffer | null = null;

  push(chunk: Uint8Array): StreamEvent[] {
    let bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.carry) {
      bytes = Buffer.concat([this.carry, bytes]);
      this.carry = null;
    }
    const whole = completeUtf8(bytes);
    if (whole < bytes.length) this.carry = Buffer.from(bytes.subarray(whole));
    const decoded = bytes.toString("utf8", 0, whole);
    this.text = this.text === "" ? decoded : this.text + decoded;
    return this.frames(false);
  }

  end(): StreamEvent[] {
    if (this.carry) {
      // A character cut off by the end of the stream: replaced, as a decoder would.
      this.text += this.carry.toString("utf8");
      this.carry = null;
    }
    return this.frames(true);
  }

  private frames(final: boolean): StreamEvent[] {
    const out: StreamEvent[] = [];
    let text = this.text;
    // CR and CRLF end lines too; a CR last in the text may be half of a CRLF: it waits for the next chunk.
    let held = "";
    if (text.includes("\r")) {
      if (!final && text.endsWith("\r")) {
        held = "\r";
        text = text.slice(0, -1);
      }
      text = text.replace(/\r\n?/g, "\n");
    }
    let at = 0;
    for (;;) {
      const stop = text.indexOf("\n\n", at);
      if (stop < 0) break;
      this.block(text, at, stop, out);
      at = stop + 2;
    }
    const rest = at === 0 ? text : text.slice(at);
    if (final) {
      if (rest.trim() !== "") this.block(rest, 0, rest.length, out);
      this.text = "";
    } else this.text = held === "" ? rest : rest + held;
    return out;
  }

  /** One frame, text[from, to): its data (joined `data:` lines) read, then given to the dialect. */
  private block(text: string, from: number, to: number, out: StreamEvent[]): void {
    // The common frames: one `data: ` line, or one `event: ` line then one `data: ` line. (Prefixes
    // are compared as substrings: Node 20's startsWith costs about 5 ns a character.)
    let line = from;
    if (text.charCodeAt(from) === 0x65 && text.substring(from, from + 7) === "event: ") {
      const nl = text.indexOf("\n", from);
      line = nl < 0 || nl >= to ? to : nl + 1;
    }
    let data: string | null = null;
    if (line < to && text.charCodeAt(line) === 0x64 && text.substring(line, line + 6) === "data: ") {
      const nl = text.indexOf("\n", line);
      if (nl < 0 || nl >= to) data = text.slice(line + 6, to);
    }
    data ??= dataOf(text.slice(from, to));
    if (data === null || this.fast(data, out)) return;
    let d: Json;
    try {
      d = JSON.parse(data) as Json;
    } catch {
      return;
    }
    this.frame(d, out);
  }

  /** Reads a frame's data without parsing it whole; false to have it parsed and given to `frame`. */
  protected fast(_data: string, _out: StreamEvent[]): boolean {
    return false;
  }

  protected abstract frame(d: Json, out: StreamEvent[]): void;
}

/** A frame's `data:` lines joined by new lines (the SSE rule); null when it has none (a comment, an id). */
function dataOf(block: string): string | null {
  let data: string | null = null;
  for (const line of block.split("\n")) {
    if (line.startsWith("data:")) {
      const v = line.charCodeAt(5) === 0x20 ? line.slice(6) : line.slice(5);
      data = data === null ? v : data + "\n" + v;
    }
  }
  return data;
}

/** How many leading bytes end on a whole UTF-8 character (all but a character cut off at the end). */
function completeUtf8(b: Buffer): number {
  const n = b.length;
  // Back over at most three continuation bytes to the last character's first byte.
  let i = n - 1;
  while (i >= 0 && i > n - 4 && (b[i]! & 0xc0) === 0x80) i--;
  if (i < 0) return n;
  const lead = b[i]!;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return n - i < size ? i : n;
}
