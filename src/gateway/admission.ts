import type { ErrorCode } from "../errors/index.js";
import type { Operation, WireDialect } from "../providers/index.js";
import type { ApiKey, UsageEvent, Workspace } from "../store/index.js";

/** What limits need to decide on a request (DESIGN.md, request path steps 3 and 4). */
export interface AdmissionRequest {
  requestId: string;
  at: number;
  key: ApiKey;
  workspace: Workspace;
  orgId: string;
  provider: string;
  /** The catalog id (after alias resolution). */
  model: string;
  op: Operation;
  /** The caller's wire format: which rate-limit headers it reads. */
  dialect: WireDialect;
  /** Upper bounds: input from the body's bytes, output from max_tokens or the model's maximum. */
  inputTokenBound: number;
  outputTokenBound: number;
  /** The most the request can cost at the prices in force, in nano-USD. */
  costBoundNano: number;
}

export type AdmissionDecision =
  | { allowed: true; ticket?: unknown; headers?: Record<string, string> | undefined }
  | {
    allowed: false; code: ErrorCode; message: string; retryAfterSeconds?: number; headers?: Record<string, string>;
    /** Which limit refused, for the access log and metrics: "key_requests_per_minute", "workspace_spend_limit", "org_credits"… */
    limit?: string;
  };

/** What the request actually used (step 7): the priced part of its usage event. */
export type AdmissionSettlement = Pick<UsageEvent, "inputTokens" | "outputTokens" | "cacheWriteTokens" | "cacheReadTokens" | "costNano" | "status" | "aborted">;

/**
 * The seam for rate limits, budget reservations and credits: `admit` before the request leaves
 * (a refusal is answered in the caller's dialect), `settle` once with what it used. A gateway
 * built without limits gets NoAdmission, so the request path never checks for a missing one.
 */
export interface Admission {
  admit(r: AdmissionRequest): AdmissionDecision | Promise<AdmissionDecision>;
  settle(r: AdmissionRequest, ticket: unknown, s: AdmissionSettlement): void | Promise<void>;
  /**
   * Work done upstream before the gateway learnt its cost (a batch's results, read after the
   * batch ran): the cost goes on every spend limit and the credit balance, unreserved and never
   * refused; requests after it are refused as any spend past a limit makes them.
   */
  charge(r: AdmissionRequest, costNano: number): Promise<void>;
}

const ADMITTED: AdmissionDecision = { allowed: true };

/** No limits: every request is admitted, and there is nothing to settle or charge. */
export class NoAdmission implements Admission {
  admit(): AdmissionDecision {
    return ADMITTED;
  }

  settle(): void {}

  charge(): Promise<void> {
    return Promise.resolve();
  }
}
