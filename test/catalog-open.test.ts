/** The open catalog on live keys: pattern-matched models, family prices, the unpriced rule, price-list imports, allow-lists. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { run } from "../src/cli/index.js";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";
import { readUntil } from "./support/gateway-harness.js";

let t: TestApp;
let sim: SimulatorServer;
let live: string;

async function usageOf(requestId: string) {
  const rows = await readUntil(() => t.app.database.db.selectFrom("usage_events").selectAll().where("id", "=", requestId).execute(), (r) => r.length > 0);
  return rows[0]!;
}

async function issue(body: Record<string, unknown> = {}): Promise<string> {
  const r = await t.api("POST", "/api/v1/keys", { name: "k", kind: "live", ...body });
  expect(r.status).toBe(201);
  return r.body.key as string;
}

const claude = (key: string, model: string) => fetch(`${t.url}/v1/messages`, {
  method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
  body: JSON.stringify({ model, max_tokens: 50, messages: [{ role: "user", content: "hi" }] }),
});

beforeAll(async () => {
  sim = await createSimulatorServer();
  t = await startSqliteApp();
  for (const [provider, base] of [["anthropic", sim.url], ["openai", `${sim.url}/v1`], ["gemini", sim.url]] as const) {
    const r = await t.api("POST", "/api/v1/credentials", { provider, name: provider, secret: `upstream-${provider}-secret-0001`, base_url: base });
    expect(r.status).toBe(201);
  }
  live = await issue();
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

describe("models released after this catalog", () => {
  it("serves the coding CLIs' default models on a live key, priced by their family", async () => {
    const anthropic = new Anthropic({ apiKey: live, baseURL: t.url, maxRetries: 0 });
    const { data: msg, request_id: a } = await anthropic.messages.create({ model: "claude-opus-5-5", max_tokens: 64, messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(msg.content[0]).toMatchObject({ type: "text" });
    const ea = await usageOf(a!);
    expect(ea).toMatchObject({ provider: "anthropic", model: "claude-opus-5-5", output_tokens: 12 });
    expect(Number(ea.cost_nano)).toBe(Number(ea.input_tokens) * 5000 + 12 * 25000); // the claude-opus-* family: $5 / $25

    const openai = new OpenAI({ apiKey: live, baseURL: `${t.url}/v1`, maxRetries: 0 });
    const { data: resp, request_id: o } = await openai.responses.create({ model: "gpt-6.2-sol", input: "hi" }).withResponse();
    expect(resp.output_text).toContain("Latchkey simulator");
    const eo = await usageOf(o!);
    expect(eo).toMatchObject({ provider: "openai", model: "gpt-6.2-sol" });
    expect(Number(eo.cost_nano)).toBe(Number(eo.input_tokens) * 1250 + Number(eo.output_tokens) * 10000); // gpt-*: $1.25 / $10

    const gemini = new GoogleGenAI({ apiKey: live, httpOptions: { baseUrl: t.url } });
    for (const [model, input, output] of [["gemini-3.1-pro-preview", 1250, 10000], ["gemini-3.5-flash-lite", 100, 400]] as const) {
      const r = await gemini.models.generateContent({ model, contents: "hi" });
      expect(r.text).toContain("Latchkey simulator");
      const rows = await readUntil(() => t.app.database.db.selectFrom("usage_events").selectAll().where("model", "=", model).execute(), (x) => x.length > 0);
      expect(rows[0]).toMatchObject({ provider: "gemini", status: 200 });
      expect(Number(rows[0]!.cost_nano)).toBe(Number(rows[0]!.input_tokens) * input + Number(rows[0]!.output_tokens) * output);
    }
  });

  it("refuses a name no provider pattern claims, and a pattern match outside the key's allow-list", async () => {
    const none = await claude(live, "llama-9-70b");
    expect(none.status).toBe(404);
    const onlyClaude = await issue({ allowed_models: ["claude-*"] });
    expect((await claude(onlyClaude, "claude-opus-5-5")).status).toBe(200);
    const openai = new OpenAI({ apiKey: onlyClaude, baseURL: `${t.url}/v1`, maxRetries: 0 });
    await expect(openai.chat.completions.create({ model: "gpt-6.2-sol", messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({ status: 404 });
    const onlyOne = await issue({ allowed_models: ["claude-opus-4-7"] });
    expect((await claude(onlyOne, "claude-opus-5-5")).status).toBe(404);
    expect((await claude(onlyOne, "claude-opus-4-7")).status).toBe(200);
  });
});

describe("models with no price", () => {
  it("refuses by default, naming the model and how to price it, then charges the organization's stated price", async () => {
    const before = sim.stats.requests;
    const r = await claude(live, "claude-mythos-1");
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: { message: string }; request_id: string };
    expect(body.error.message).toContain("claude-mythos-1");
    expect(body.error.message).toContain("latchkey models import");
    expect(body.error.message).toContain("unpriced_models");
    expect(body.request_id).toMatch(/^req_/);
    expect(sim.stats.requests).toBe(before); // nothing left the gateway

    expect((await t.api("PATCH", "/api/v1/organization", { unpriced_models: { action: "charge", input_usd_per_mtok: "-1", output_usd_per_mtok: "2" } })).status).toBe(400);
    const set = await t.api("PATCH", "/api/v1/organization", { unpriced_models: { action: "charge", input_usd_per_mtok: "7", output_usd_per_mtok: "21" } });
    expect(set.status).toBe(200);
    expect(set.body.settings.unpriced_models).toEqual({ action: "charge", input_usd_per_mtok: "7", output_usd_per_mtok: "21" });
    const ok = await readUntil(() => claude(live, "claude-mythos-1"), (x) => x.status === 200, 5000);
    expect(ok.status).toBe(200);
    const e = await usageOf(ok.headers.get("request-id")!);
    expect(Number(e.cost_nano)).toBe(Number(e.input_tokens) * 7000 + Number(e.output_tokens) * 21000);

    expect((await t.api("PATCH", "/api/v1/organization", { unpriced_models: null })).status).toBe(200);
    const refused = await readUntil(() => claude(live, "claude-mythos-1"), (x) => x.status === 400, 5000);
    expect(refused.status).toBe(400);
  });
});

describe("latchkey models import", () => {
  async function cli(args: string[]): Promise<{ code: number; out: string }> {
    const spy = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const code = await run(["node", "latchkey", ...args], { LATCHKEY_URL: t.url, LATCHKEY_ADMIN_KEY: t.adminKey });
      return { code, out: spy.mock.calls.map((c) => String(c[0])).join("") };
    } finally {
      spy.mockRestore();
    }
  }

  it("prices models and families from a JSON file without a release, and never reprices the past", async () => {
    const first = await claude(live, "claude-opus-5-5");
    const firstCost = Number((await usageOf(first.headers.get("request-id")!)).cost_nano);
    const file = join(tmpdir(), `latchkey-prices-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({
      models: [{ id: "claude-opus-5-5", provider: "anthropic", max_output_tokens: 128000, context_window: 500000, pricing: { input_usd_per_mtok: "4", output_usd_per_mtok: "20", cache_write_usd_per_mtok: "5", cache_read_usd_per_mtok: "0.4" } }],
      families: [{ pattern: "gemini-*-ultra*", provider: "gemini", max_output_tokens: 65536, pricing: { input_usd_per_mtok: "3", output_usd_per_mtok: "30" } }],
    }));
    const r = await cli(["models", "import", file, "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ created: "claude-opus-5-5", families: 1 });

    const second = await claude(live, "claude-opus-5-5");
    const e = await usageOf(second.headers.get("request-id")!);
    expect(Number(e.cost_nano)).toBe(Number(e.input_tokens) * 4000 + Number(e.output_tokens) * 20000);
    // The earlier request keeps the price it was charged.
    expect(Number((await usageOf(first.headers.get("request-id")!)).cost_nano)).toBe(firstCost);
    const listed = await t.api("GET", "/api/v1/models/claude-opus-5-5");
    expect(listed.body.pricing).toMatchObject({ input_usd_per_mtok: "4", output_usd_per_mtok: "20" });

    const gemini = await fetch(`${t.url}/v1beta/models/gemini-4-ultra:generateContent`, { method: "POST", headers: { "x-goog-api-key": live, "content-type": "application/json" }, body: JSON.stringify({ contents: [{ parts: [{ text: "hi" }] }] }) });
    expect(gemini.status).toBe(200);
    const g = await usageOf(gemini.headers.get("x-request-id")!);
    expect(Number(g.cost_nano)).toBe(Number(g.input_tokens) * 3000 + Number(g.output_tokens) * 30000);

    const again = await cli(["models", "import", file, "--json"]);
    expect(JSON.parse(again.out)).toMatchObject({ created: "none", updated: "none", unchanged: 1 });
    writeFileSync(file, "{ not json");
    expect((await cli(["models", "import", file])).code).toBe(2);
    writeFileSync(file, JSON.stringify({ models: [{ id: "x-1", provider: "nope", max_output_tokens: 1, pricing: { input_usd_per_mtok: "1", output_usd_per_mtok: "1" } }] }));
    expect((await cli(["models", "import", file])).code).not.toBe(0);
    const audit = await t.api("GET", "/api/v1/audit?action=models.imported");
    expect(JSON.stringify(audit.body)).toContain("models.imported");
  });
});
