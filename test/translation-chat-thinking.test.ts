/**
 * A Chat Completions caller's tool loop with thinking on a Claude model, through the official
 * OpenAI SDK on a live key whose Anthropic credential points at the simulator. The simulator, like
 * Anthropic, refuses a tool call's turn that comes back without its signed thinking block or with
 * it altered, so each second turn below passes only if the block reached it unmodified.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../src/lib/index.js";
import { startHarness, type Harness } from "./support/gateway-harness.js";

const TOOL_SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const body: any = {
  model: "claude-sonnet-4-6", reasoning_effort: "low",
  tools: [{ type: "function", function: { name: "get_weather", parameters: TOOL_SCHEMA } }],
  messages: [{ role: "user", content: "Weather in Paris?" }],
};

let h: Harness;
let key: string;

beforeAll(async () => {
  h = await startHarness();
  await h.addCredential("anthropic", "sk-ant-chat-thinking-0001");
  key = await h.issueKey();
});
afterAll(async () => {
  await h?.close();
});

const client = (apiKey = key) => new OpenAI({ apiKey, baseURL: `${h.url}/v1`, maxRetries: 0 });
const toolResult = (m: any) => ({ role: "tool", tool_call_id: m.tool_calls[0].id, content: "18C" });

/** A streamed first turn, its deltas put together as a client that keeps every field would. */
async function streamedTurn(c: OpenAI, messages: any[]): Promise<any> {
  const m: any = { role: "assistant", content: "", reasoning_content: "", thinking_blocks: [], tool_calls: [] };
  for await (const chunk of await c.chat.completions.create({ ...body, messages, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming)) {
    const d: any = chunk.choices[0]?.delta ?? {};
    m.content += d.content ?? "";
    m.reasoning_content += d.reasoning_content ?? "";
    m.thinking_blocks.push(...(d.thinking_blocks ?? []));
    for (const t of d.tool_calls ?? []) {
      if (!m.tool_calls[t.index]) m.tool_calls[t.index] = { id: t.id, type: "function", function: { name: t.function.name, arguments: "" } };
      m.tool_calls[t.index].function.arguments += t.function?.arguments ?? "";
    }
  }
  return m;
}

describe("a Chat caller's tool loop with thinking on a Claude model", () => {
  it("JSON: the answer carries reasoning_content and the signed thinking_blocks; replaying the message as it came passes", async () => {
    const first = await client().chat.completions.create(body);
    const message: any = first.choices[0]!.message;
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    expect(message.reasoning_content).toBe("The simulator considers which tool to call.");
    expect(message.thinking_blocks).toEqual([{ type: "thinking", thinking: message.reasoning_content, signature: expect.stringMatching(/^latchkey\.anthropic%2Fclaude-sonnet-4-6\./) }]);
    const { data: second, response } = await client().chat.completions.create({ ...body, messages: [...body.messages, message, toolResult(message)] }).withResponse();
    expect(second.choices[0]!.finish_reason).toBe("stop");
    expect(response.headers.get("latchkey-notice")).toBeNull();
  });

  it("streamed: reasoning_content deltas and one signed thinking_blocks entry; the rebuilt message passes, streamed", async () => {
    const message = await streamedTurn(client(), body.messages);
    expect(message.reasoning_content).toBe("The simulator considers which tool to call.");
    expect(message.thinking_blocks).toEqual([{ type: "thinking", thinking: message.reasoning_content, signature: expect.stringMatching(/^latchkey\.anthropic%2Fclaude-sonnet-4-6\./) }]);
    expect(message.tool_calls).toHaveLength(1);
    let text = "";
    for await (const chunk of await client().chat.completions.create({ ...body, stream: true, messages: [...body.messages, message, toolResult(message)] } as OpenAI.ChatCompletionCreateParamsStreaming)) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toMatch(/^Hello from the Latchkey simulator/);
  });

  it("an altered thinking block is refused by the provider, as Anthropic would", async () => {
    const first = await client().chat.completions.create(body);
    const message: any = first.choices[0]!.message;
    const altered = { ...message, thinking_blocks: [{ ...message.thinking_blocks[0], thinking: "Something else." }] };
    await expect(client().chat.completions.create({ ...body, messages: [...body.messages, altered, toolResult(altered)] }))
      .rejects.toMatchObject({ status: 400, message: expect.stringMatching(/Invalid `signature`/) });
  });

  for (const stream of [false, true]) {
    it(`a client that drops the unknown fields (${stream ? "stream" : "JSON"}): the gateway restores the kept block, thinking stays on`, async () => {
      const full: any = stream ? await streamedTurn(client(), body.messages) : (await client().chat.completions.create(body)).choices[0]!.message;
      const rebuilt = { role: "assistant", content: full.content || null, tool_calls: full.tool_calls };
      const { data: second, response } = await client().chat.completions.create({ ...body, messages: [...body.messages, rebuilt, toolResult(rebuilt)] }).withResponse();
      expect(second.choices[0]!.message.content).toMatch(/^Hello from the Latchkey simulator/);
      expect(response.headers.get("latchkey-notice")).toBeNull();
    });
  }

  it("blocks that are gone (another organization's call ids, or expired): thinking off for that turn, said in latchkey-notice and the access log", async () => {
    // The same call ids from a key of another organization: its history must not get this one's blocks.
    const full: any = (await client().chat.completions.create(body)).choices[0]!.message;
    const rebuilt = { role: "assistant", content: null, tool_calls: full.tool_calls };
    const orgId = newId("org");
    const workspaceId = newId("wrk");
    await h.store.orgs.insertOrganization({ id: orgId, name: "Other", rateLimits: null, spendLimit: null, settings: {}, createdAt: Date.now() });
    await h.store.orgs.insertWorkspace({ id: workspaceId, orgId, name: "Default", isDefault: true, allowedModels: null, rateLimits: null, spendLimit: null, archivedAt: null, createdAt: Date.now() });
    await h.store.credentials.insert({ id: newId("cred"), orgId, workspaceId: null, provider: "anthropic", name: "other", secret: "sk-ant-other-0001", baseUrl: h.sim.url, weight: 1, createdAt: Date.now(), createdBy: "system" }, h.masterKey);
    h.gateway.vault.invalidate();
    const other = await h.issueKey({ workspaceId }, orgId);
    const { data, response } = await client(other).chat.completions.create({ ...body, messages: [...body.messages, rebuilt, toolResult(rebuilt)] }).withResponse();
    expect(data.choices[0]!.message.content).toMatch(/^Hello from the Latchkey simulator/);
    expect(response.headers.get("latchkey-notice")).toMatch(/^thinking off for this turn/);
    const requestId = response.headers.get("x-request-id");
    const line = h.logs.map((l) => JSON.parse(l)).find((l) => l.kind === "access" && l.requestId === requestId);
    expect(line?.notice).toMatch(/^thinking off for this turn/);
    expect(line?.orgId).toBe(orgId);
  });

  it("without thinking, nothing is restored or changed", async () => {
    const { reasoning_effort: _, ...plain } = body;
    const first: any = (await client().chat.completions.create(plain)).choices[0]!.message;
    expect(first.thinking_blocks).toBeUndefined();
    const { response } = await client().chat.completions.create({ ...plain, messages: [...plain.messages, first, toolResult(first)] }).withResponse();
    expect(response.headers.get("latchkey-notice")).toBeNull();
  });
});
