/**
 * Scopes. Gateway keys carry endpoint families; admin keys carry management permissions.
 * "*" grants every scope of the key's own surface.
 */
export const GATEWAY_SCOPES = ["messages", "chat", "embeddings", "responses", "gemini", "models", "count_tokens", "moderations", "batches"] as const;
export type GatewayScope = (typeof GATEWAY_SCOPES)[number];

export const ADMIN_SCOPES = [
  "keys:read", "keys:write", "workspaces:read", "workspaces:write", "org:read", "org:write", "usage:read",
  "billing:read", "billing:write", "credentials:read", "credentials:write", "models:write", "audit:read",
  "webhooks:read", "webhooks:write", "alerts:read", "users:read", "users:write", "leaks:write",
  // Verifies keys through POST /api/v1/keys/verify without its per-address failure limit.
  "keys:verify",
  // Reads GET /metrics on the main port (a Prometheus scraper's key).
  "metrics:read",
] as const;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

export function isKnownScope(kind: "admin" | "gateway", scope: string): boolean {
  if (scope === "*") return true;
  return kind === "admin" ? (ADMIN_SCOPES as readonly string[]).includes(scope) : (GATEWAY_SCOPES as readonly string[]).includes(scope);
}

export function hasScope(scopes: readonly string[], wanted: string): boolean {
  if (scopes.includes("*") || scopes.includes(wanted)) return true;
  // "keys:write" implies "keys:read".
  if (wanted.endsWith(":read")) return scopes.includes(`${wanted.slice(0, -":read".length)}:write`);
  return false;
}
