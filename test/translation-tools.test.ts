/**
 * Tool round trips across dialects with the official Node SDKs on a live key: the provider (a
 * scripted upstream speaking its own dialect) calls a tool, with streamed argument fragments; the
 * client sees the call in its own dialect, answers it, and the provider receives the result in
 * its own shape, paired with its call. Usage recorded equals what the client saw.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeId } from "../src/providers/index.js";
import { call, CALLERS, sdks, type CallerSdks } from "./support/callers.js";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";
import { SCRIPTED_USAGE, startScriptedUpstream, type ScriptedUpstream } from "./support/scripted-upstream.js";

const PROVIDERS = [["anthropic", "claude-sonnet-4-6"], ["openai", "gpt-4o"], ["gemini", "gemini-2.5-flash"]] as const;
const TOOL = { name: "get_weather", description: "Weather in a city", schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
const TOOL_STOP: Record<string, string> = { anthropic: "tool_use", chat: "tool_calls", responses: "completed", gemini: "STOP" };

let h: Harness;
let up: ScriptedUpstream;
let s: CallerSdks;

beforeAll(async () => {
  h = await startHarness();
  up = await startScriptedUpstream();
  for (const [p] of PROVIDERS) await h.addCredential(p, `scripted-${p}`, { baseUrl: p === "openai" ? `${up.url}/v1` : up.url });
  s = sdks(h.url, await h.issueKey());
});
afterAll(async () => {
  await h?.close();
  await up?.close();
});

/** The tool result the provider received in its own dialect: [call id, tool name or null, output]. */
function resultUpstream(provider: string, body: any): [string, string | null, string] {
  if (provider === "anthropic") {
    const calls = body.messages.at(-2).content.filter((b: any) => b.type === "tool_use");
    const r = body.messages.at(-1).content.find((b: any) => b.type === "tool_result");
    expect(r.tool_use_id).toBe(calls[0].id);
    return [r.tool_use_id, calls[0].name, typeof r.content === "string" ? r.content : r.content.map((c: any) => c.text).join("")];
  }
  if (provider === "openai") {
    const assistant = body.messages.find((m: any) => m.tool_calls);
    const tool = body.messages.find((m: any) => m.role === "tool");
    expect(tool.tool_call_id).toBe(assistant.tool_calls[0].id);
    return [tool.tool_call_id, assistant.tool_calls[0].function.name, tool.content];
  }
  const fr = body.contents.at(-1).parts[0].functionResponse;
  return [fr.id, fr.name, fr.response.output];
}

/**
 * Same-dialect pairs pass bytes through untouched; this stand-in speaks Messages, Chat and
 * generateContent only, so Responses → OpenAI (which goes to /v1/responses) is left to the
 * simulator's matrix, and Gemini → Gemini would hand the client the stand-in's id-less call as is.
 */
const PASS_THROUGH = new Set(["responses→openai", "gemini→gemini"]);

describe("tool round trips: every caller × every provider", () => {
  for (const caller of CALLERS) {
    for (const [provider, model] of PROVIDERS) {
      if (PASS_THROUGH.has(`${caller}→${provider}`)) continue;
      for (const stream of [false, true]) {
        it(`${caller} → ${provider} (${stream ? "stream" : "JSON"})`, async () => {
          const first = await call(caller, s, model, stream, { prompt: "Weather in Paris?", tool: TOOL });
          const asked = up.received.at(-1)!;
          expect(JSON.stringify(asked.body)).toContain("get_weather");
          expect(first.calls).toHaveLength(1);
          expect(first.calls[0]).toMatchObject({ name: "get_weather", args: { city: "Paris" } });
          expect(first.calls[0]!.id).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(first.text).toBe("Let me check.");
          expect(first.stop).toBe(TOOL_STOP[caller]);
          const e1 = await eventually(async () => (await h.usage()).find((x) => x.id === first.requestId));
          expect(e1).toMatchObject({ provider, outputTokens: first.output, cacheReadTokens: first.cacheRead });
          expect(e1.inputTokens + e1.cacheReadTokens + e1.cacheWriteTokens).toBe(first.input);
          expect(e1.outputTokens).toBe(SCRIPTED_USAGE.output);

          const second = await call(caller, s, model, stream, { prompt: "Weather in Paris?", tool: TOOL, result: { call: first.calls[0]!, output: "18C and dry" } });
          expect(second.text).toBe("It is 18C in Paris.");
          expect(second.calls).toEqual([]);
          const [id, name, output] = resultUpstream(provider, up.received.at(-1)!.body);
          expect(output).toBe("18C and dry");
          expect(name).toBe("get_weather");
          expect(id).toBe(safeId(first.calls[0]!.id));
        });
      }
    }
  }
});
