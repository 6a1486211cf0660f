import type { ServerResponse } from "node:http";
import { renderError, type ErrorCode } from "../../errors/index.js";
import type { WireDialect } from "../types.js";
import { simId, type Fault, type Script } from "./script.js";
import type { ToolCall } from "./tools.js";

/** One simulated call: what was asked and how to answer. */
export interface SimCall {
  res: ServerResponse;
  body: Record<string, unknown>;
  model: string;
  script: Script;
  stream: boolean;
  paceMs: number;
  /** Extra response headers (the request id). */
  headers: Record<string, string>;
  /** The tool call to answer with instead of text (tools were declared and not yet answered). */
  tool?: ToolCall | null;
  /** Streams events in a framing other than SSE (Bedrock's event-stream). */
  frames?: ((events: [string, Record<string, unknown>][]) => void) | undefined;
}

const FAULT_CODES: Record<string, ErrorCode> = { "429": "rate_limited", "500": "internal", "503": "unavailable", "529": "overloaded" };

/** Answers an error fault in the dialect; true when it did. */
export function answerFault(dialect: WireDialect, fault: Fault | null, res: ServerResponse, headers: Record<string, string>): boolean {
  const code = fault ? FAULT_CODES[fault] : undefined;
  if (!code) return false;
  const requestId = headers["request-id"] ?? headers["x-request-id"] ?? "req_sim";
  const { status, body } = renderError(dialect, { code, message: `Simulated ${fault} error.`, requestId });
  res.writeHead(fault === "529" && dialect !== "gemini" ? 529 : status, { ...headers, "content-type": "application/json", ...(fault === "429" ? { "retry-after": "0" } : {}) });
  res.end(JSON.stringify(body));
  return true;
}

export function sendJson(call: SimCall, payload: unknown): void {
  const text = JSON.stringify(payload);
  if (call.script.fault === "die") {
    call.res.writeHead(200, { ...call.headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
    call.res.write(text.slice(0, text.length >> 1));
    call.res.destroy();
    return;
  }
  call.res.writeHead(200, { ...call.headers, "content-type": "application/json" });
  call.res.end(text);
}

/** Writes server-sent events at the configured pace; a `die` fault drops the connection half way. */
export function sendEvents(call: SimCall, events: string[] | Buffer[], contentType = "text/event-stream", writeEach = false): void {
  const { res } = call;
  res.writeHead(200, { ...call.headers, "content-type": contentType, "cache-control": "no-cache" });
  const dieAt = call.script.fault === "die" ? Math.max(1, events.length >> 1) : -1;
  if (call.paceMs <= 0 && dieAt < 0 && !writeEach) {
    res.end(typeof events[0] === "string" ? (events as string[]).join("") : Buffer.concat(events as Buffer[]));
    return;
  }
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i === dieAt) {
      res.destroy();
      return;
    }
    if (i >= events.length) {
      res.end();
      return;
    }
    res.write(events[i++]!);
    if (call.paceMs > 0) setTimeout(next, call.paceMs);
    else setImmediate(next);
  };
  next();
}

export function sseEvent(name: string | null, data: unknown): string {
  const json = typeof data === "string" ? data : JSON.stringify(data);
  return name ? `event: ${name}\ndata: ${json}\n\n` : `data: ${json}\n\n`;
}

export { simId };
