import type { IncomingHttpHeaders } from "node:http";

/**
 * Headers for the upstream request: only those the provider documents for callers (its
 * `clientHeaders`), then the provider's auth. An allow-list: a header nobody thought of (an account,
 * project or method override) never rides next to the organization's provider key.
 */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, allowed: readonly string[], bodyLength: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < allowed.length; i++) {
    const name = allowed[i]!;
    const v = incoming[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(", ") : v;
  }
  out["accept-encoding"] = "identity";
  out["content-length"] = String(bodyLength);
  return out;
}

/** The name the provider's own request id is answered under (it identifies the upstream call in their support). */
export const UPSTREAM_REQUEST_ID = "latchkey-upstream-request-id";

/**
 * Headers for the client, an allow-list: the content type (and length when the body passes whole),
 * the provider's request id under a Latchkey name, our request id, and our own headers (the rate
 * limits Latchkey enforces). The provider's rate-limit, account, cookie and server headers describe
 * the organization's upstream account, not the caller's key, and stay behind. One object, given whole
 * to writeHead: with no setHeader before it, Node writes it without copying header by header.
 */
export function clientResponseHeaders(upstream: IncomingHttpHeaders, requestIdName: string, requestId: string, keepLength: boolean, ours?: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const type = upstream["content-type"];
  if (type !== undefined) out["content-type"] = type;
  if (keepLength) {
    const length = upstream["content-length"];
    if (length !== undefined) out["content-length"] = length;
  }
  const theirs = upstream[requestIdName] ?? upstream["x-request-id"] ?? upstream["request-id"];
  if (typeof theirs === "string") out[UPSTREAM_REQUEST_ID] = theirs;
  out[requestIdName] = requestId;
  if (ours) for (const name in ours) out[name] = ours[name]!;
  return out;
}

/**
 * Headers for a translated request: the caller's headers belong to another provider's API (its
 * SDK's version and beta flags), so none pass; the provider's own required version header is set.
 */
export function translatedRequestHeaders(upstreamIsAnthropic: boolean, bodyLength: number): Record<string, string> {
  const out: Record<string, string> = { "content-type": "application/json", "accept-encoding": "identity", "content-length": String(bodyLength) };
  if (upstreamIsAnthropic) out["anthropic-version"] = "2023-06-01";
  return out;
}
