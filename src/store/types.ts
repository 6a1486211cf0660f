/** Domain records as the rest of the system sees them (camelCase, parsed JSON, numbers). */

export const SPEND_PERIODS = ["day", "week", "month", "total"] as const;
export type SpendPeriod = (typeof SPEND_PERIODS)[number];

export interface RateLimits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  concurrentRequests: number | null;
}

export interface SpendLimit {
  amountNano: number;
  period: SpendPeriod;
}

export interface Organization {
  id: string;
  name: string;
  rateLimits: RateLimits | null;
  spendLimit: SpendLimit | null;
  /** Free-form settings other areas keep on the organization (credits, alert thresholds…). */
  settings: Record<string, unknown>;
  createdAt: number;
}

export interface Workspace {
  id: string;
  orgId: string;
  name: string;
  isDefault: boolean;
  allowedModels: string[] | null;
  rateLimits: RateLimits | null;
  spendLimit: SpendLimit | null;
  archivedAt: number | null;
  createdAt: number;
}

export type KeyStatus = "active" | "disabled" | "revoked";

export interface ApiKey {
  id: string;
  orgId: string;
  workspaceId: string;
  name: string;
  kind: "live" | "test" | "publishable" | "admin";
  keyHash: string;
  hint: string;
  scopes: string[];
  allowedModels: string[] | null;
  ipAllowlist: string[] | null;
  allowedOrigins: string[] | null;
  rateLimits: RateLimits | null;
  spendLimit: SpendLimit | null;
  metadata: Record<string, unknown>;
  status: KeyStatus;
  expiresAt: number | null;
  createdAt: number;
  createdBy: string | null;
  updatedAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  rolledFrom: string | null;
}

export interface AuditEvent {
  seq: number;
  id: string;
  at: number;
  orgId: string | null;
  actor: string;
  action: string;
  target: string | null;
  changes: Record<string, unknown>;
  requestId: string | null;
  clientIp: string | null;
  prevHash: string;
  hash: string;
}

/** One gateway request's usage, as the gateway hands it to metering. */
export interface UsageEvent {
  id: string;
  at: number;
  orgId: string;
  workspaceId: string;
  keyId: string;
  provider: string;
  model: string;
  endpoint: string;
  inputTokens: number;
  outputTokens: number;
  cacheWriteTokens: number;
  cacheReadTokens: number;
  costNano: number;
  status: number;
  errorCode: string | null;
  streamed: boolean;
  aborted: boolean;
  latencyMs: number;
  ttfbMs: number | null;
  /** The deployment (credential id) that answered; null when none did. */
  deployment?: string | null;
  /** Upstream attempts made (1 when the first deployment answered; 0 when none was tried). */
  attempts?: number;
}

/** The parts of a usage event that tell of a finished request (access log, metrics, spans); a request refused before its key is known has no ids. */
export type FinishedRequest = Pick<UsageEvent,
  "id" | "at" | "provider" | "model" | "endpoint" | "inputTokens" | "outputTokens" | "cacheWriteTokens" | "cacheReadTokens" |
  "costNano" | "status" | "errorCode" | "streamed" | "latencyMs" | "ttfbMs"> & Partial<Pick<UsageEvent, "orgId" | "workspaceId" | "keyId">>;

export interface Page<T> {
  data: T[];
  hasMore: boolean;
  lastId: string | null;
}

export interface PageRequest {
  limit: number;
  after?: string | undefined;
}
