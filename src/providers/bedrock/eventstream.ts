import type { EventStreamCodec } from "@smithy/core/event-streams";
import { lazyRequire } from "../../lib/lazy-require.js";
import type { Reframer } from "../types.js";

export type Message = ReturnType<EventStreamCodec["decode"]>;

const utf8 = {
  toUtf8: (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("utf8"),
  fromUtf8: (s: string): Uint8Array => Buffer.from(s, "utf8"),
};
const MAX_FRAME = 16 * 1024 * 1024;
const eventStreams = lazyRequire<typeof import("@smithy/core/event-streams")>("@smithy/core/event-streams");

// Bedrock's stream exceptions in Anthropic's terms (cloud-providers.md 1.6, 1.10).
export const EXCEPTION_TYPES: Record<string, string> = {
  throttlingException: "rate_limit_error", serviceUnavailableException: "overloaded_error", validationException: "invalid_request_error",
  modelTimeoutException: "timeout_error", internalServerException: "api_error", modelStreamErrorException: "api_error",
};

/**
 * Reads AWS event-stream binary frames as they arrive: frames do not follow network chunks, so
 * bytes are kept until a frame is whole. Frames are checked and decoded by the AWS SDK's codec
 * (lengths and both CRCs); each whole message becomes the caller's bytes through `message`.
 */
export abstract class EventStreamReader implements Reframer {
  readonly contentType: string = "text/event-stream; charset=utf-8";
  private readonly codec: EventStreamCodec = new (eventStreams().EventStreamCodec)(utf8.toUtf8, utf8.fromUtf8);
  private carry: Buffer | null = null;
  /** Set when the bytes could not be decoded: the stream is unusable from there on. */
  failed: string | null = null;

  /** The bytes one decoded message becomes. */
  protected abstract message(m: Message): string;
  /** The bytes a cut or unreadable stream ends with. */
  protected abstract failure(why: string): string;
  /** The closing bytes of a stream that ended whole. */
  protected closing(): string {
    return "";
  }

  push(chunk: Buffer): Buffer {
    if (this.failed) return EMPTY;
    let buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    let out = "";
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (len < 16 || len > MAX_FRAME) return this.fail(`bad frame length ${len}`, out);
      if (buf.length < len) break;
      let message: Message;
      try {
        message = this.codec.decode(buf.subarray(0, len));
      } catch (err) {
        return this.fail((err as Error).message, out);
      }
      out += this.message(message);
      buf = buf.subarray(len);
    }
    if (buf.length > 0) this.carry = Buffer.from(buf);
    return out === "" ? EMPTY : Buffer.from(out, "utf8");
  }

  /** What is left when the upstream ends: an unfinished frame means the stream was cut. */
  end(): Buffer {
    if (this.failed) return EMPTY;
    if (this.carry) return this.fail("the stream ended inside a frame", "");
    const tail = this.closing();
    return tail === "" ? EMPTY : Buffer.from(tail, "utf8");
  }

  private fail(why: string, before: string): Buffer {
    this.failed = why;
    return Buffer.from(before + this.failure(why), "utf8");
  }
}

/**
 * Re-frames Bedrock's InvokeModelWithResponseStream answer (each `chunk` frame carrying one
 * base64 Anthropic event) as the Anthropic server-sent events the caller expects.
 */
export class EventStreamToSse extends EventStreamReader {
  protected message(m: Message): string {
    return toSse(m);
  }

  protected failure(why: string): string {
    return sseError("api_error", `The provider's stream could not be read: ${why}`);
  }
}

const EMPTY = Buffer.alloc(0);

export function header(m: Message, name: string): string {
  const h = m.headers[name];
  return h && typeof h.value === "string" ? h.value : "";
}

function toSse(m: Message): string {
  const kind = header(m, ":message-type");
  const body = utf8.toUtf8(m.body);
  if (kind === "event") {
    if (header(m, ":event-type") !== "chunk") return "";
    const payload = JSON.parse(body) as { bytes?: string };
    if (typeof payload.bytes !== "string") return "";
    const event = Buffer.from(payload.bytes, "base64").toString("utf8");
    const type = (JSON.parse(event) as { type?: unknown }).type;
    // Anthropic's SDK drops an event without a type; so does this.
    return typeof type === "string" ? `event: ${type}\ndata: ${event}\n\n` : "";
  }
  const { name, message } = streamFailure(m, kind, body);
  return sseError(EXCEPTION_TYPES[name] ?? "api_error", message || name || "The provider's stream failed.");
}

/** An exception or error frame: its type name, and its message from the headers or else the body. */
export function streamFailure(m: Message, kind: string, body: string): { name: string; message: string } {
  const name = kind === "exception" ? header(m, ":exception-type") : header(m, ":error-code");
  const message = header(m, ":error-message");
  if (message) return { name, message };
  try {
    return { name, message: String((JSON.parse(body) as { message?: unknown }).message ?? name) };
  } catch {
    return { name, message: name };
  }
}

function sseError(type: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message } })}\n\n`;
}
