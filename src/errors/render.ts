import { ERROR_CODES, type ErrorCode } from "./codes.js";
import type { FieldIssue } from "./app-error.js";

/** The wire dialect a caller speaks; decides the shape of every error it is answered with. */
export type Dialect = "anthropic" | "openai" | "gemini" | "management";

export interface ErrorBody {
  status: number;
  body: unknown;
}

export interface RenderInput {
  code: ErrorCode;
  message: string;
  requestId: string;
  fields?: FieldIssue[] | undefined;
  param?: string | undefined;
  openaiCode?: string | undefined;
}

/** Renders an error in the caller's dialect, with the matching status. */
export function renderError(dialect: Dialect, e: RenderInput): ErrorBody {
  const row = ERROR_CODES[e.code];
  switch (dialect) {
    case "anthropic":
      return { status: row.status, body: { type: "error", error: { type: row.anthropic, message: e.message }, request_id: e.requestId } };
    case "openai":
      return {
        status: row.status === 402 ? 429 : row.status,
        body: { error: { message: e.message, type: row.openai, param: e.param ?? e.fields?.[0]?.field ?? null, code: e.openaiCode ?? openaiCode(e.code) } },
      };
    case "gemini": {
      const status = row.status === 401 ? 400 : row.status === 402 || row.status === 529 ? (row.status === 402 ? 429 : 503) : row.status;
      const details = e.code === "unauthenticated"
        ? [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com", metadata: { service: "generativelanguage.googleapis.com" } }]
        : [];
      return { status, body: { error: { code: status, message: e.message, status: status === 400 ? "INVALID_ARGUMENT" : row.gemini, details } } };
    }
    case "management":
      return { status: row.status, body: { error: { code: e.code, message: e.message, request_id: e.requestId, ...(e.fields ? { fields: e.fields } : {}) } } };
  }
}

function openaiCode(code: ErrorCode): string | null {
  switch (code) {
    case "unauthenticated": return "invalid_api_key";
    case "model_not_found": return "model_not_found";
    case "rate_limited": return "rate_limit_exceeded";
    case "spend_limit_reached": return "insufficient_quota";
    case "insufficient_credits": return "insufficient_quota";
    case "forbidden": return "permission_denied";
    default: return null;
  }
}
