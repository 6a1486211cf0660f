import type { ErrorCode } from "../../errors/index.js";
import { NO_USAGE, type CanonicalUsage, type StopReason, type StreamEvent } from "./canonical.js";
import type { StreamEncoder } from "./codec.js";

/** The events a dialect writes as they come; start, usage, stop and error are the skeleton's. */
export type PartEvent = Exclude<StreamEvent, { type: "start" | "usage" | "stop" | "error" }>;

/**
 * The skeleton every dialect's stream encoder shares. The caller's opening frames go out before
 * the first event, named after the upstream's id when that event is `start` (else the request
 * id); usage and the stop reason are held for the closing frames; an error, or a stream cut
 * before its end, is written once in the caller's in-band form and nothing follows it. A dialect
 * writes its opening, its part events, its closing frames and its error.
 */
export abstract class BaseStreamEncoder implements StreamEncoder {
  abstract readonly contentType: string;
  protected usage: CanonicalUsage = NO_USAGE;
  protected stop: StopReason = "end";
  /** A tool call was streamed: a plain end is then a tool stop for the dialects that name it. */
  protected sawTool = false;
  /** Nothing more is written (an error went out, or the stream was ended). */
  protected ended = false;
  private started = false;

  constructor(protected readonly model: string, protected readonly requestId: string) {}

  encode(ev: StreamEvent): string {
    if (this.ended) return "";
    if (ev.type === "error") {
      this.ended = true;
      return this.failure(ev.code, ev.message);
    }
    const out = this.started ? "" : this.begin(ev.type === "start" ? ev.id : this.requestId);
    switch (ev.type) {
      case "start":
        return out;
      case "usage":
        this.usage = ev.usage;
        return out;
      case "stop":
        this.stop = ev.reason;
        return out;
      case "part_start":
        if (ev.kind === "tool_call") this.sawTool = true;
        return out + this.part(ev);
      default:
        return out + this.part(ev);
    }
  }

  end(clean: boolean): string {
    if (this.ended) return "";
    this.ended = true;
    if (!clean) return this.failure("upstream_error", "The provider's stream ended unexpectedly.");
    return (this.started ? "" : this.begin(this.requestId)) + this.closing();
  }

  /** The stop reason to write: a plain end after a tool call is a tool stop. */
  protected get stopReason(): StopReason {
    return this.stop === "end" && this.sawTool ? "tool_use" : this.stop;
  }

  private begin(id: string): string {
    this.started = true;
    return this.opening(id);
  }

  /** The frames that open the caller's stream; `id` is the upstream's (or the request id). */
  protected abstract opening(id: string): string;
  protected abstract part(ev: PartEvent): string;
  /** The frames that end a stream that finished cleanly (usage and stop reason are known). */
  protected abstract closing(): string;
  /** The caller's in-band error; nothing is written after it. */
  protected abstract failure(code: ErrorCode, message: string): string;
}
