import type { ErrorCode } from "./codes.js";

/** One problem with one input field, for answers that name the field. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The base of every error the system raises on purpose; `code` decides status and wire shape. */
export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { fields?: FieldIssue[]; param?: string; openaiCode?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }
}

/** Input that failed validation; `fields` names each bad field. */
export class ValidationError extends AppError {
  override name = "ValidationError";
  constructor(fields: FieldIssue[], message = describeFields(fields)) {
    super("invalid_request", message, { fields });
  }
}

/** The database (or another store) did not answer. */
export class StoreUnavailableError extends AppError {
  override name = "StoreUnavailableError";
  constructor(message = "the store is unavailable", override readonly cause?: unknown) {
    super("store_unavailable", message);
  }
}

export class NotFoundError extends AppError {
  override name = "NotFoundError";
  constructor(what: string) {
    super("not_found", `${what} not found`);
  }
}

function describeFields(fields: FieldIssue[]): string {
  if (fields.length === 0) return "invalid request";
  return fields.map((f) => (f.field ? `${f.field}: ${f.message}` : f.message)).join("; ");
}
