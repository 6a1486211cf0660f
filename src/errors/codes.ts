/**
 * Every refusal and fault the system can answer with. One table maps each code to its HTTP status
 * and to the error type of each provider dialect (wire-formats.md, sections 1.5, 2.4 and 3).
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, anthropic: "invalid_request_error", openai: "invalid_request_error", gemini: "INVALID_ARGUMENT" },
  unauthenticated: { status: 401, anthropic: "authentication_error", openai: "invalid_request_error", gemini: "UNAUTHENTICATED" },
  insufficient_credits: { status: 402, anthropic: "billing_error", openai: "insufficient_quota", gemini: "RESOURCE_EXHAUSTED" },
  forbidden: { status: 403, anthropic: "permission_error", openai: "invalid_request_error", gemini: "PERMISSION_DENIED" },
  not_found: { status: 404, anthropic: "not_found_error", openai: "invalid_request_error", gemini: "NOT_FOUND" },
  model_not_found: { status: 404, anthropic: "not_found_error", openai: "invalid_request_error", gemini: "NOT_FOUND" },
  method_not_allowed: { status: 405, anthropic: "invalid_request_error", openai: "invalid_request_error", gemini: "INVALID_ARGUMENT" },
  conflict: { status: 409, anthropic: "conflict_error", openai: "invalid_request_error", gemini: "ALREADY_EXISTS" },
  payload_too_large: { status: 413, anthropic: "request_too_large", openai: "invalid_request_error", gemini: "INVALID_ARGUMENT" },
  rate_limited: { status: 429, anthropic: "rate_limit_error", openai: "requests", gemini: "RESOURCE_EXHAUSTED" },
  spend_limit_reached: { status: 429, anthropic: "rate_limit_error", openai: "insufficient_quota", gemini: "RESOURCE_EXHAUSTED" },
  internal: { status: 500, anthropic: "api_error", openai: "server_error", gemini: "INTERNAL" },
  upstream_error: { status: 502, anthropic: "api_error", openai: "server_error", gemini: "INTERNAL" },
  store_unavailable: { status: 503, anthropic: "api_error", openai: "server_error", gemini: "UNAVAILABLE" },
  unavailable: { status: 503, anthropic: "overloaded_error", openai: "server_error", gemini: "UNAVAILABLE" },
  upstream_timeout: { status: 504, anthropic: "timeout_error", openai: "server_error", gemini: "DEADLINE_EXCEEDED" },
  overloaded: { status: 529, anthropic: "overloaded_error", openai: "server_error", gemini: "UNAVAILABLE" },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusFor(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
