/**
 * Row types of every table, for Kysely. Times are integer milliseconds since the epoch, booleans
 * are 0/1 and structured fields are JSON text: the same representation on SQLite and PostgreSQL,
 * so one query code serves both. Areas that add tables extend `Tables` by interface merging
 * (`declare module "../schema.js" { interface Tables { … } }`) in their own file.
 */
import type { Generated } from "kysely";

export interface OrganizationRow {
  id: string;
  name: string;
  rate_limits: string | null;
  spend_limit: string | null;
  settings: string;
  created_at: number;
}

export interface WorkspaceRow {
  id: string;
  org_id: string;
  name: string;
  is_default: number;
  allowed_models: string | null;
  rate_limits: string | null;
  spend_limit: string | null;
  archived_at: number | null;
  created_at: number;
}

export interface ApiKeyRow {
  id: string;
  org_id: string;
  workspace_id: string;
  name: string;
  kind: string;
  key_hash: string;
  hint: string;
  scopes: string;
  allowed_models: string | null;
  ip_allowlist: string | null;
  allowed_origins: string | null;
  rate_limits: string | null;
  spend_limit: string | null;
  metadata: string;
  status: string;
  expires_at: number | null;
  created_at: number;
  created_by: string | null;
  updated_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  rolled_from: string | null;
}

export interface AuditEventRow {
  seq: Generated<number>;
  id: string;
  at: number;
  org_id: string | null;
  actor: string;
  action: string;
  target: string | null;
  changes: string;
  request_id: string | null;
  client_ip: string | null;
  prev_hash: string;
  hash: string;
  /** HMAC of the record's position and hash; null on records written before seals existed. */
  seal: string | null;
}

export interface AuditHeadRow {
  id: number;
  hash: string;
  count: number;
  /** HMAC of count, hash and sealed_after; null until the first sealed record. */
  seal: string | null;
  /** How many records precede sealing (written before seals existed). */
  sealed_after: number;
}

export interface UsageEventRow {
  id: string;
  at: number;
  org_id: string;
  workspace_id: string;
  key_id: string;
  provider: string;
  model: string;
  endpoint: string;
  input_tokens: number;
  output_tokens: number;
  cache_write_tokens: number;
  cache_read_tokens: number;
  cost_nano: number;
  status: number;
  error_code: string | null;
  streamed: number;
  aborted: number;
  latency_ms: number;
  ttfb_ms: number | null;
  deployment: string | null;
  attempts: number;
}

export interface KeyValueRow {
  key: string;
  value: string;
  updated_at: number;
}

export interface Tables {
  organizations: OrganizationRow;
  workspaces: WorkspaceRow;
  api_keys: ApiKeyRow;
  audit_events: AuditEventRow;
  audit_head: AuditHeadRow;
  usage_events: UsageEventRow;
  kv: KeyValueRow;
}
