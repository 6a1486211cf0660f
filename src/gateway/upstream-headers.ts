import type { IncomingHttpHeaders } from "node:http";

/** Request headers never passed upstream: hop-by-hop, the caller's credentials, cookies, proxies. */
const DROP_REQUEST = new Set([
  "host", "connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
  "content-length", "authorization", "x-api-key", "x-goog-api-key", "cookie", "accept-encoding", "expect", "origin", "referer",
  "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip",
]);

/** Response headers never passed back: hop-by-hop, upstream account ids, cookies, request ids (ours replace them). */
const DROP_RESPONSE = new Set([
  "connection", "keep-alive", "transfer-encoding", "set-cookie", "anthropic-organization-id", "openai-organization", "openai-project",
  "request-id", "x-request-id", "alt-svc", "server", "via", "cf-ray",
]);

/** Headers for the upstream request: the caller's, minus DROP_REQUEST, plus the provider's auth. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, auth: [string, string][], bodyLength: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in incoming) {
    if (DROP_REQUEST.has(name)) continue;
    const v = incoming[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(", ") : v;
  }
  for (const [name, value] of auth) out[name] = value;
  out["accept-encoding"] = "identity";
  out["content-length"] = String(bodyLength);
  return out;
}

/**
 * Headers for the client: the upstream's, minus DROP_RESPONSE, with our request id and our own
 * headers (rate limits), which win over the upstream's of the same name. One object, given whole to
 * writeHead: with no setHeader before it, Node writes it without copying header by header.
 */
export function clientResponseHeaders(upstream: IncomingHttpHeaders, requestIdName: string, requestId: string, keepLength: boolean, ours?: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    if (DROP_RESPONSE.has(name) || (!keepLength && name === "content-length")) continue;
    const v = upstream[name];
    if (v !== undefined) out[name] = v;
  }
  const theirs = upstream[requestIdName] ?? upstream["x-request-id"] ?? upstream["request-id"];
  if (typeof theirs === "string") out["upstream-request-id"] = theirs;
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
