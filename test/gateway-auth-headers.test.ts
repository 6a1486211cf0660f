/** Claude Code sends x-api-key and Authorization: Bearer when both variables are set: one key twice is one key. */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";

let h: Harness;
let key: string;
const body = JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });

beforeAll(async () => {
  h = await startHarness();
  await h.addCredential("anthropic", "sk-ant-upstream-two-headers-0001");
  key = await h.issueKey();
});
afterAll(async () => h?.close());

describe("a key in both x-api-key and Authorization", () => {
  it("is one key when both carry the same one (the Anthropic SDK with an Authorization header added, as Claude Code sends)", async () => {
    const client = new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0, defaultHeaders: { authorization: `Bearer ${key}` } });
    const { data, request_id } = await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(data.type).toBe("message");
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === request_id));
    expect(e.status).toBe(200);
    // The caller's key goes no further: upstream saw only the provider credential.
    expect([...h.sim.stats.byKey.keys()]).toEqual(["sk-ant-upstream-two-headers-0001"]);
  });

  it("is refused when they differ (in Authorization, x-goog-api-key or ?key=), before anything leaves", async () => {
    const other = await h.issueKey();
    const before = h.sim.stats.requests;
    const send = (headers: [string, string][]) => fetch(`${h.url}/v1/messages`, { method: "POST", headers: [...headers, ["content-type", "application/json"], ["anthropic-version", "2023-06-01"]], body });
    const differ = await send([["x-api-key", key], ["authorization", `Bearer ${other}`]]);
    expect(differ.status).toBe(400);
    expect(((await differ.json()) as { error: { message: string } }).error.message).toMatch(/more than one API key/);
    expect((await send([["x-api-key", key], ["x-goog-api-key", other]])).status).toBe(400);
    expect((await fetch(`${h.url}/v1/messages?key=${other}`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json" }, body })).status).toBe(400);
    expect((await send([["x-api-key", key], ["authorization", `Bearer ${key}`], ["x-goog-api-key", key]])).status).toBe(200);
    expect(h.sim.stats.requests - before).toBe(1);
  });
});
