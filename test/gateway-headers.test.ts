/**
 * What crosses the gateway in headers: only what each provider documents for callers goes up next
 * to the organization's provider key; only content type, request ids and Latchkey's own limits come back.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./support/gateway-harness.js";

/** A stand-in upstream that records what it received and answers with a provider's usual headers. */
async function recordingUpstream(body: string) {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on("end", () => res.writeHead(200, {
      "content-type": "application/json", "request-id": "req_upstream_123", "x-request-id": "req_upstream_123",
      "anthropic-organization-id": "org-secret-upstream", "openai-organization": "org-upstream", "openai-project": "proj_x",
      "anthropic-ratelimit-requests-remaining": "3999", "x-ratelimit-remaining-requests": "9999", "retry-after": "7",
      "set-cookie": "__cf_bm=abc", server: "cloudflare", "cf-ray": "1234", via: "1.1 google", "x-envoy-upstream-service-time": "12",
    }).end(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const HOSTILE = {
  "openai-organization": "org-attacker", "openai-project": "proj_attacker", "x-http-method-override": "DELETE",
  "x-goog-user-project": "attacker-project", "cookie": "a=b", "x-forwarded-for": "1.2.3.4", "x-stainless-os": "Linux",
  "anthropic-dangerous-direct-browser-access": "true", "x-custom-thing": "1",
};

describe("headers to and from providers", () => {
  let h: Harness;
  let anthropicUp: Awaited<ReturnType<typeof recordingUpstream>>;
  let openaiUp: Awaited<ReturnType<typeof recordingUpstream>>;
  let key: string;

  beforeAll(async () => {
    h = await startHarness();
    anthropicUp = await recordingUpstream(JSON.stringify({ id: "msg_1", type: "message", role: "assistant", model: "claude-haiku-4-5", content: [{ type: "text", text: "hi" }], stop_reason: "end_turn", usage: { input_tokens: 3, output_tokens: 1 } }));
    openaiUp = await recordingUpstream(JSON.stringify({ id: "chatcmpl-1", object: "chat.completion", model: "gpt-4o-mini", choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }));
    await h.addCredential("anthropic", "sk-ant-org-key-0001", { baseUrl: anthropicUp.url });
    await h.addCredential("openai", "sk-org-key-0001", { baseUrl: `${openaiUp.url}/v1` });
    key = await h.issueKey({ rateLimits: { requestsPerMinute: 100, tokensPerMinute: null, concurrentRequests: null } });
  });
  afterAll(async () => {
    await h?.close();
    await anthropicUp?.close();
    await openaiUp?.close();
  });

  it("sends Anthropic only its documented caller headers, and the organization's key", async () => {
    const r = await fetch(`${h.url}/v1/messages`, {
      method: "POST",
      headers: { ...HOSTILE, "x-api-key": key, "anthropic-version": "2023-06-01", "anthropic-beta": "prompt-caching-2024-07-31", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(r.status).toBe(200);
    const got = anthropicUp.seen.at(-1)!;
    expect(got["x-api-key"]).toBe("sk-ant-org-key-0001");
    expect(got["anthropic-version"]).toBe("2023-06-01");
    expect(got["anthropic-beta"]).toBe("prompt-caching-2024-07-31");
    for (const name of Object.keys(HOSTILE)) expect(got[name], name).toBeUndefined();
    expect(got.authorization).toBeUndefined();
  });

  it("sends OpenAI no organization, project or override header", async () => {
    const r = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST", headers: { ...HOSTILE, authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(r.status).toBe(200);
    const got = openaiUp.seen.at(-1)!;
    expect(got.authorization).toBe("Bearer sk-org-key-0001");
    for (const name of Object.keys(HOSTILE)) expect(got[name], name).toBeUndefined();
  });

  it("answers the content type, request ids and Latchkey's own limits, nothing of the upstream account", async () => {
    const r = await fetch(`${h.url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
    });
    await r.arrayBuffer();
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.headers.get("latchkey-upstream-request-id")).toBe("req_upstream_123");
    expect(r.headers.get("request-id")).toMatch(/^req_/);
    expect(r.headers.get("request-id")).not.toBe("req_upstream_123");
    for (const name of ["anthropic-organization-id", "openai-organization", "openai-project", "set-cookie", "server", "cf-ray", "via", "x-envoy-upstream-service-time", "x-ratelimit-remaining-requests", "retry-after"]) {
      expect(r.headers.get(name), name).toBeNull();
    }
  });
});
