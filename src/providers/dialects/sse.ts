import type { Json, StreamEvent } from "./canonical.js";
import type { StreamDecoder } from "./codec.js";

/** One server-sent event: its `event:` name (empty when none) and its joined `data:` lines. */
export interface SseFrame { event: string; data: string }

/**
 * An incremental SSE parser for translated streams only (pass-through streams are never parsed:
 * DESIGN.md, hot-path lessons). Bytes are decoded as UTF-8 with a carry for split characters.
 */
export class SseParser {
  private text = "";
  private readonly decoder = new TextDecoder();

  push(chunk: Uint8Array): SseFrame[] {
    this.text += this.decoder.decode(chunk, { stream: true });
    return this.frames(false);
  }

  /** Frames left when the stream ends (a last frame without its blank line still counts). */
  end(): SseFrame[] {
    this.text += this.decoder.decode();
    return this.frames(true);
  }

  private frames(final: boolean): SseFrame[] {
    const out: SseFrame[] = [];
    const text = this.text.includes("\r") ? this.text.replace(/\r\n?/g, "\n") : this.text;
    let at = 0;
    for (;;) {
      const stop = text.indexOf("\n\n", at);
      if (stop < 0) break;
      const frame = parseFrame(text.slice(at, stop));
      if (frame) out.push(frame);
      at = stop + 2;
    }
    this.text = text.slice(at);
    if (final && this.text.trim() !== "") {
      const frame = parseFrame(this.text);
      if (frame) out.push(frame);
      this.text = "";
    }
    return out;
  }
}

function parseFrame(block: string): SseFrame | null {
  // The common frames: one `data:` line, or one `event:` line then one `data:` line.
  if (block.startsWith("data: ") && block.indexOf("\n") < 0) return { event: "", data: block.slice(6) };
  if (block.startsWith("event: ")) {
    const nl = block.indexOf("\n");
    if (nl > 0 && block.startsWith("data: ", nl + 1) && block.indexOf("\n", nl + 1) < 0) return { event: block.slice(7, nl), data: block.slice(nl + 7) };
  }
  let event = "";
  let data: string | null = null;
  for (const line of block.split("\n")) {
    if (line.startsWith("data:")) {
      const v = line.charCodeAt(5) === 0x20 ? line.slice(6) : line.slice(5);
      data = data === null ? v : data + "\n" + v;
    } else if (line.startsWith("event:")) event = line.slice(6).trim();
  }
  return data === null ? null : { event, data };
}

export function sse(event: string | null, data: unknown): string {
  const json = JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${json}\n\n` : `data: ${json}\n\n`;
}

/**
 * The skeleton every dialect's stream decoder shares: upstream bytes → SSE frames → JSON objects →
 * canonical events. A dialect supplies `frame` (one parsed object) and, for its most frequent
 * frames, `fast`, which may read a frame without parsing it whole. A frame that is not JSON carries
 * nothing of ours and is skipped.
 */
export abstract class SseJsonDecoder implements StreamDecoder {
  done = false;
  private readonly parser = new SseParser();

  push(chunk: Uint8Array): StreamEvent[] {
    return this.frames(this.parser.push(chunk));
  }

  end(): StreamEvent[] {
    return this.frames(this.parser.end());
  }

  private frames(frames: SseFrame[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const f of frames) {
      if (this.fast(f.data, out)) continue;
      let d: Json;
      try {
        d = JSON.parse(f.data) as Json;
      } catch {
        continue;
      }
      this.frame(d, out);
    }
    return out;
  }

  /** Reads a frame's data without parsing it whole; false to have it parsed and given to `frame`. */
  protected fast(_data: string, _out: StreamEvent[]): boolean {
    return false;
  }

  protected abstract frame(d: Json, out: StreamEvent[]): void;
}
