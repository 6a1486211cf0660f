/**
 * Signed reasoning goes back only to the model that wrote it, and Gemini 3 gets Google's stand-in
 * signature for calls it did not sign. Live keys, their credentials pointing at the simulator,
 * which checks signatures as the providers do: Gemini 3 refuses a function call whose signature is
 * missing or not its own, Anthropic one whose thinking block is missing or altered.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureOrigin, unwrapSignature, wrapSignature } from "../src/providers/index.js";
import { startHarness, type Harness } from "./support/gateway-harness.js";

const TOOL_SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

let h: Harness;
let key: string;

beforeAll(async () => {
  h = await startHarness();
  await h.addCredential("anthropic", "sk-ant-origins-0001");
  await h.addCredential("gemini", "AIza-origins-0001");
  key = await h.issueKey();
});
afterAll(async () => {
  await h?.close();
});

describe("a signature's tag names the model that wrote it", () => {
  it("round trips a model id with dots and slashes", () => {
    const origin = signatureOrigin("gemini", "gemini-2.5-flash");
    const tagged = wrapSignature("chat", origin, "c2ln.bmF0dXJl==");
    expect(tagged).toBe("latchkey.gemini%2Fgemini-2%2E5-flash.c2ln.bmF0dXJl==");
    expect(unwrapSignature("chat", tagged)).toEqual({ signature: "c2ln.bmF0dXJl==", origin, redacted: false });
    expect(unwrapSignature("chat", "latchkey.%E0%A4%A.x")).toEqual({ signature: "latchkey.%E0%A4%A.x", origin: "chat", redacted: false });
  });
});

describe("a signature is never sent to a model that did not write it", () => {
  it("a Gemini 3 signature does not reach another Gemini model: the stand-in goes instead, and the call passes", async () => {
    const client = new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 });
    const body: any = { model: "gemini-3-pro-preview", max_tokens: 200, tools: [{ name: "get_weather", input_schema: TOOL_SCHEMA }], messages: [{ role: "user", content: "Weather in Paris?" }] };
    const first = await client.messages.create(body);
    const signed = first.content.find((b) => b.type === "thinking") as any;
    expect(signed.signature).toMatch(/^latchkey\.gemini%2Fgemini-3-pro-preview\./);
    const call = first.content.find((b) => b.type === "tool_use")!;
    const history = [...body.messages, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "18C" }] }];
    // gemini-3-flash-preview would refuse gemini-3-pro-preview's signature ("Corrupted thought signature").
    const other = await client.messages.create({ ...body, model: "gemini-3-flash-preview", messages: history });
    expect(other.content.find((b) => b.type === "text")).toMatchObject({ text: expect.stringMatching(/^Hello from the Latchkey simulator/) });
    const same = await client.messages.create({ ...body, messages: history });
    expect(same.stop_reason).toBe("end_turn");
  });

  it("a Claude model's thinking does not reach another Claude model: dropped, and thinking is off for that turn, said", async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const body: any = { model: "claude-sonnet-4-6", reasoning_effort: "low", tools: [{ type: "function", function: { name: "get_weather", parameters: TOOL_SCHEMA } }], messages: [{ role: "user", content: "Weather in Paris?" }] };
    const message: any = (await client.chat.completions.create(body)).choices[0]!.message;
    expect(message.thinking_blocks).toHaveLength(1);
    const history = [...body.messages, message, { role: "tool", tool_call_id: message.tool_calls[0].id, content: "18C" }];
    const same = await client.chat.completions.create({ ...body, messages: history }).withResponse();
    expect(same.response.headers.get("latchkey-notice")).toBeNull();
    const other = await client.chat.completions.create({ ...body, model: "claude-opus-4-5", messages: history }).withResponse();
    expect(other.data.choices[0]!.message.content).toMatch(/^Hello from the Latchkey simulator/);
    expect(other.response.headers.get("latchkey-notice")).toMatch(/^thinking off for this turn/);
  });

  it("a conversation started on Claude continues on Gemini 3: Claude's signature stays behind, the calls get the stand-in", async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const body: any = { model: "claude-sonnet-4-6", reasoning_effort: "low", tools: [{ type: "function", function: { name: "get_weather", parameters: TOOL_SCHEMA } }], messages: [{ role: "user", content: "Weather in Paris?" }] };
    for (const stream of [false, true]) {
      const message: any = (await client.chat.completions.create(body)).choices[0]!.message;
      const history = [...body.messages, message, { role: "tool", tool_call_id: message.tool_calls[0].id, content: "18C" }];
      const next = { ...body, model: "gemini-3-pro-preview", messages: history };
      let text = "";
      if (stream) for await (const c of await client.chat.completions.create({ ...next, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming)) text += c.choices[0]?.delta.content ?? "";
      else text = (await client.chat.completions.create(next)).choices[0]!.message.content ?? "";
      expect(text).toMatch(/^Hello from the Latchkey simulator/);
    }
  });
});
