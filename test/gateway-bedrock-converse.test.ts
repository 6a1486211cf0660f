/**
 * Bedrock's Converse API: the simulator answers the AWS SDK's own Converse and ConverseStream
 * commands (signed, schema checked, usage last), and the gateway reaches non-Anthropic models
 * (and Claude, when a credential asks for Converse) through it for the Anthropic and OpenAI SDKs.
 */
import Anthropic from "@anthropic-ai/sdk";
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand } from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readUntil, startHarness, type Harness } from "./support/gateway-harness.js";

const AWS = { accessKeyId: "AKIASIMULATOR0000002", secretAccessKey: "sim/secret/key/for/converse/000000000000" };
const MISTRAL = "mistral.mistral-large-2407-v1:0";

let h: Harness;
let key: string;
let mistralCred: string;
let claudeCred: string;

beforeAll(async () => {
  h = await startHarness({ clouds: { aws: [AWS] } });
  const now = Date.now();
  await h.store.models.upsert({ id: "mistral-large-2407", provider: "bedrock", displayName: "Mistral Large on Bedrock", kind: "chat", aliases: [], maxOutputTokens: 8192, contextWindow: 128_000 }, now);
  await h.store.models.setPrice("mistral-large-2407", { effectiveAt: 0, input: 2_000_000, output: 6_000_000, cacheWrite: 0, cacheRead: 0 });
  await h.gateway.catalog.reload();
  const secret = JSON.stringify({ access_key_id: AWS.accessKeyId, secret_access_key: AWS.secretAccessKey });
  mistralCred = await h.addCredential("bedrock", secret, { settings: { region: "us-west-2" }, models: [{ match: "mistral-large-2407", upstream: MISTRAL }] });
  claudeCred = await h.addCredential("bedrock", secret, {
    settings: { region: "us-west-2", api: "converse" }, models: [{ match: "claude-haiku-4-5", upstream: "us.anthropic.claude-haiku-4-5-20251001-v1:0" }],
  });
  key = await h.issueKey({ allowedModels: ["mistral-large-2407", "claude-haiku-4-5"] });
});
afterAll(async () => h?.close());

describe("the simulator plays Converse for the AWS SDK", () => {
  const client = () => new BedrockRuntimeClient({
    region: "us-west-2", endpoint: h.sim.url, credentials: AWS, requestHandler: new NodeHttpHandler(), maxAttempts: 1,
  });

  it("answers Converse and ConverseStream, usage in the final metadata event", async () => {
    const input = { modelId: MISTRAL, messages: [{ role: "user" as const, content: [{ text: "hello converse sim-tokens:6" }] }], inferenceConfig: { maxTokens: 40 } };
    const r = await client().send(new ConverseCommand(input));
    expect(r.stopReason).toBe("end_turn");
    expect(r.output?.message?.content?.[0]?.text).toBe("Hello from the Latchkey simulator .");
    expect(r.usage).toMatchObject({ outputTokens: 6 });
    const s = await client().send(new ConverseStreamCommand(input));
    let text = "";
    const kinds: string[] = [];
    let usage: unknown;
    for await (const ev of s.stream!) {
      kinds.push(Object.keys(ev).filter((k) => (ev as unknown as Record<string, unknown>)[k] !== undefined)[0]!);
      if (ev.contentBlockDelta?.delta?.text) text += ev.contentBlockDelta.delta.text;
      if (ev.metadata) usage = ev.metadata.usage;
    }
    expect(text).toBe(r.output?.message?.content?.[0]?.text);
    expect(kinds[0]).toBe("messageStart");
    expect(kinds.slice(-2)).toEqual(["messageStop", "metadata"]);
    expect(usage).toEqual(r.usage);
  });

  it("refuses what Bedrock refuses, in Bedrock's terms", async () => {
    const wrongTurns = client().send(new ConverseCommand({ modelId: MISTRAL, messages: [{ role: "assistant", content: [{ text: "I start" }] }] }));
    await expect(wrongTurns).rejects.toMatchObject({ name: "ValidationException", message: expect.stringContaining("must start with a user message") });
    const unknownModel = client().send(new ConverseCommand({ modelId: "acme.unknown-v1", messages: [{ role: "user", content: [{ text: "x" }] }] }));
    await expect(unknownModel).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    const badKey = new BedrockRuntimeClient({ region: "us-west-2", endpoint: h.sim.url, credentials: { ...AWS, secretAccessKey: "wrong" }, requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
    await expect(badKey.send(new ConverseCommand({ modelId: MISTRAL, messages: [{ role: "user", content: [{ text: "x" }] }] }))).rejects.toMatchObject({ name: "InvalidSignatureException" });
  });

  it("answers outputConfig.textFormat with JSON fitting the schema, and refuses a schema that is not a JSON object string", async () => {
    const schema = { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city", "days"] };
    const ask = (s: string) => new ConverseCommand({
      modelId: MISTRAL, messages: [{ role: "user", content: [{ text: "forecast" }] }],
      outputConfig: { textFormat: { type: "json_schema", structure: { jsonSchema: { schema: s, name: "forecast" } } } },
    });
    const r = await client().send(ask(JSON.stringify(schema)));
    const value = JSON.parse(r.output?.message?.content?.[0]?.text ?? "") as Record<string, unknown>;
    expect(typeof value.city).toBe("string");
    expect(Number.isInteger(value.days)).toBe(true);
    await expect(client().send(ask("[1,2]"))).rejects.toMatchObject({ name: "ValidationException", message: expect.stringContaining("JSON schema") });
  });
});

describe("the gateway reaches models through Converse", () => {
  const openai = () => new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });

  it("answers the OpenAI SDK with Mistral on Bedrock, JSON and streamed, with the same usage, billed at its price", async () => {
    const ask = { model: "mistral-large-2407", messages: [{ role: "user" as const, content: "hello mistral sim-tokens:9" }] };
    const plain = await openai().chat.completions.create(ask);
    expect(plain.choices[0]!.message.content).toBe("Hello from the Latchkey simulator . This answer is");
    expect(plain.usage).toMatchObject({ completion_tokens: 9 });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of await openai().chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } })) {
      text += c.choices[0]?.delta.content ?? "";
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe(plain.choices[0]!.message.content);
    expect(usage).toMatchObject({ prompt_tokens: plain.usage!.prompt_tokens, completion_tokens: 9 });
    expect(h.sim.cloud.seen.bedrockOps.slice(-2)).toEqual(["converse", "converse-stream"]);
    expect(h.sim.cloud.seen.bedrockPaths.at(-1)).toBe("mistral.mistral-large-2407-v1%3A0");
    const events = (await readUntil(() => h.usage(), (e) => e.filter((x) => x.deployment === mistralCred).length >= 2)).filter((e) => e.deployment === mistralCred);
    const [a, b] = events.slice(-2);
    expect(a).toMatchObject({ provider: "bedrock", model: "mistral-large-2407", status: 200, streamed: false, outputTokens: 9, inputTokens: plain.usage!.prompt_tokens });
    expect([b!.inputTokens, b!.outputTokens, b!.costNano]).toEqual([a!.inputTokens, a!.outputTokens, a!.costNano]);
    // 2 USD and 6 USD per million tokens, in nano-USD.
    expect(a!.costNano).toBe(a!.inputTokens * 2_000 + 9 * 6_000);
  });

  it("makes a tool round trip for the OpenAI SDK through Converse's toolUse and toolResult", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "weather in Oslo?" }];
    const first = await openai().chat.completions.create({ model: "mistral-large-2407", messages, tools });
    const call = first.choices[0]!.message.tool_calls?.[0];
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    expect(call).toMatchObject({ type: "function", function: { name: "get_weather" } });
    expect(JSON.parse((call as { function: { arguments: string } }).function.arguments)).toHaveProperty("city");
    let streamedArgs = "";
    for await (const c of await openai().chat.completions.create({ model: "mistral-large-2407", messages, tools, stream: true })) {
      streamedArgs += c.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
    }
    expect(streamedArgs).toBe((call as { function: { arguments: string } }).function.arguments);
    const second = await openai().chat.completions.create({
      model: "mistral-large-2407", tools,
      messages: [...messages, first.choices[0]!.message, { role: "tool", tool_call_id: call!.id, content: "sunny" }],
    });
    expect(second.choices[0]!.finish_reason).toBe("stop");
    expect(second.choices[0]!.message.content?.length).toBeGreaterThan(0);
  });

  it("answers the Anthropic SDK with Claude through Converse when the credential asks for it", async () => {
    const anthropic = new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 });
    const ask = { model: "claude-haiku-4-5", max_tokens: 50, messages: [{ role: "user" as const, content: "hello claude via converse sim-tokens:5" }] };
    const m = await anthropic.messages.create(ask);
    expect(m.content[0]).toMatchObject({ type: "text", text: "Hello from the Latchkey simulator" });
    const final = await anthropic.messages.stream(ask).finalMessage();
    expect(final.content[0]).toMatchObject({ type: "text", text: "Hello from the Latchkey simulator" });
    expect(final.usage).toMatchObject({ input_tokens: m.usage.input_tokens, output_tokens: 5 });
    expect(h.sim.cloud.seen.bedrockOps.slice(-2)).toEqual(["converse", "converse-stream"]);
    const events = await readUntil(() => h.usage(), (e) => e.filter((x) => x.deployment === claudeCred).length >= 2);
    expect(events.filter((e) => e.deployment === claudeCred).map((e) => [e.streamed, e.outputTokens])).toEqual([[false, 5], [true, 5]]);
  });

  it("maps structured output to Converse's outputConfig for the OpenAI SDK, JSON and streamed, the JSON as the message's text", async () => {
    const response_format = {
      type: "json_schema" as const,
      json_schema: { name: "city", schema: { type: "object", properties: { name: { type: "string" }, population: { type: "integer" } }, required: ["name", "population"] } },
    };
    const ask = { model: "mistral-large-2407", messages: [{ role: "user" as const, content: "a city" }], response_format };
    const c = await openai().chat.completions.create(ask);
    const value = JSON.parse(c.choices[0]!.message.content ?? "") as Record<string, unknown>;
    expect(typeof value.name).toBe("string");
    expect(Number.isInteger(value.population)).toBe(true);
    let streamed = "";
    for await (const ch of await openai().chat.completions.create({ ...ask, stream: true })) streamed += ch.choices[0]?.delta.content ?? "";
    expect(streamed).toBe(c.choices[0]!.message.content);
    // The Anthropic SDK's output format reaches Claude through Converse the same way.
    const anthropic = new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 });
    const m = await anthropic.messages.create({
      model: "claude-haiku-4-5", max_tokens: 200, messages: [{ role: "user", content: "a city" }],
      output_config: { format: { type: "json_schema", schema: response_format.json_schema.schema } },
    } as unknown as Anthropic.MessageCreateParamsNonStreaming);
    expect(Object.keys(JSON.parse((m.content[0] as { text: string }).text) as object).sort()).toEqual(["name", "population"]);
  });

  it("honours tool_choice none (tools left undeclared) and parallel_tool_calls false without tools; refuses none once the history holds tool calls", async () => {
    const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
    const c = await openai().chat.completions.create({ model: "mistral-large-2407", messages: [{ role: "user", content: "hi" }], tools, tool_choice: "none" });
    // The simulator calls a declared tool whenever it may: a text answer shows none was declared.
    expect(c.choices[0]!.finish_reason).toBe("stop");
    expect(c.choices[0]!.message.tool_calls ?? []).toEqual([]);
    const p = await openai().chat.completions.create({ model: "mistral-large-2407", messages: [{ role: "user", content: "hi" }], parallel_tool_calls: false });
    expect(p.choices[0]!.message.content?.length).toBeGreaterThan(0);
    const r = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "mistral-large-2407", tools, tool_choice: "none", messages: [
          { role: "user", content: "weather?" },
          { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Oslo\"}" } }] },
          { role: "tool", tool_call_id: "call_1", content: "sunny" },
        ],
      }),
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { param: string } }).error.param).toBe("tool_choice none");
  });

  it("refuses by name, in the caller's shape, a parameter Converse cannot take for the model", async () => {
    const r = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "mistral-large-2407", messages: [{ role: "user", content: "hi" }], parallel_tool_calls: false,
        tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      }),
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: { message: string; param: string; type: string } };
    expect(body.error).toMatchObject({ type: "invalid_request_error", param: "parallel_tool_calls false" });
    expect(body.error.message).toContain("Bedrock's Converse");
    expect(r.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("answers a Converse refusal from Bedrock in the caller's shape", async () => {
    const r = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "mistral-large-2407", messages: [{ role: "user", content: "hi sim-fault:429" }] }),
    });
    expect(r.status).toBe(429);
    const body = (await r.json()) as { error: { message: string } };
    expect(body.error.message).toContain("Too many requests");
  });
});
