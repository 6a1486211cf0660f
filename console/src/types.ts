export interface SpendLimit { amount_usd: string; amount_nano_usd?: number; period: "day" | "week" | "month" | "total" }
export interface RateLimits { requests_per_minute: number | null; tokens_per_minute: number | null; concurrent_requests: number | null }

export interface Session {
  type: "user" | "key";
  id: string;
  user?: { id: string; email: string; name: string; role: string };
  role: string | null;
  scopes: string[];
  workspace_ids: string[] | null;
  csrf_token: string | null;
  organization: { id: string; name: string } | null;
}

export interface ApiKey {
  id: string; name: string; kind: "live" | "test" | "publishable" | "admin"; workspace_id: string; hint: string; scopes: string[];
  allowed_models: string[] | null; ip_allowlist: string[] | null; allowed_origins: string[] | null; rate_limits: RateLimits | null;
  spend_limit: SpendLimit | null; expires_at: string | null; metadata: Record<string, unknown>; status: string; created_at: string;
  created_by: string | null; last_used_at: string | null; revoked_at: string | null; key?: string;
}

export interface Workspace {
  id: string; name: string; is_default: boolean; allowed_models: string[] | null; rate_limits: RateLimits | null;
  spend_limit: SpendLimit | null; archived_at: string | null; created_at: string;
}

export interface Organization { id: string; name: string; rate_limits: RateLimits | null; spend_limit: SpendLimit | null; settings: Record<string, unknown> }

export interface UsageResult {
  api_key_id?: string; workspace_id?: string; model?: string; provider?: string; requests: number; errors: number;
  uncached_input_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number; output_tokens: number; cost_usd: string;
}
export interface UsageBucket { starting_at: string; ending_at: string; results: UsageResult[] }
export interface UsageReport { data: UsageBucket[]; has_more: boolean; next_page: string | null }

export interface User { id: string; email: string; name: string; role: string; workspace_ids: string[] | null; created_at: string; last_sign_in_at: string | null }
export interface Invitation { id: string; email: string; role: string; workspace_ids: string[] | null; created_at: string; expires_at: string; url?: string }
export interface AuditEvent { id: string; seq: number; at: string; actor: string; action: string; target: string | null; changes: Record<string, unknown>; client_ip: string | null }
