import type { ServerResponse } from "node:http";
import { renderError, type ErrorCode } from "../errors/index.js";
import type { WireDialect } from "../providers/index.js";

/** The response header that carries the request id in each dialect. */
export function requestIdHeader(dialect: WireDialect): string {
  return dialect === "anthropic" ? "request-id" : "x-request-id";
}

export interface ErrorExtras {
  retryAfterSeconds?: number | undefined;
  headers?: Record<string, string> | undefined;
  openaiCode?: string | undefined;
  param?: string | undefined;
}

/** A rendered refusal, not yet sent: its status is known before a byte leaves (the record goes first). */
export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Renders a refusal or fault in the caller's dialect, with the request id. */
export function errorReply(dialect: WireDialect, code: ErrorCode, message: string, requestId: string, extra: ErrorExtras = {}): ErrorReply {
  const { status, body } = renderError(dialect, { code, message, requestId, openaiCode: extra.openaiCode, param: extra.param });
  const text = JSON.stringify(body);
  const headers: Record<string, string> = {
    ...extra.headers,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    [requestIdHeader(dialect)]: requestId,
  };
  if (extra.retryAfterSeconds !== undefined) headers["retry-after"] = String(Math.max(0, Math.ceil(extra.retryAfterSeconds)));
  // The official SDKs retry 429 and 5xx by default; a refusal that will not change says so.
  if (status === 400 || status === 401 || status === 403 || status === 404 || status === 413) headers["x-should-retry"] = "false";
  return { status, headers, text };
}

/** Sends a rendered reply (nothing when the answer has started or the client is gone). Returns the status. */
export function sendReply(res: ServerResponse, reply: ErrorReply): number {
  if (res.headersSent || res.destroyed) return reply.status;
  res.writeHead(reply.status, reply.headers);
  res.end(reply.text);
  return reply.status;
}

/** Answers a refusal or fault in the caller's dialect, with the request id. Returns the status. */
export function sendError(res: ServerResponse, dialect: WireDialect, code: ErrorCode, message: string, requestId: string, extra: ErrorExtras = {}): number {
  return sendReply(res, errorReply(dialect, code, message, requestId, extra));
}

export function sendJson(res: ServerResponse, dialect: WireDialect, requestId: string, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), [requestIdHeader(dialect)]: requestId });
  res.end(text);
}
