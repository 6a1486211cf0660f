/**
 * Deployments: which credential serves which model, in which order, and failover between them
 * (across providers too), with live keys and the simulator as every upstream.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { readUntil, startHarness, type Harness } from "./support/gateway-harness.js";
import { refusedPort } from "./support/processes.js";

const AWS = { accessKeyId: "AKIASIMULATOR0000002", secretAccessKey: "another/sim/secret/for/sigv4/00000000000" };
const bedrockSecret = JSON.stringify({ access_key_id: AWS.accessKeyId, secret_access_key: AWS.secretAccessKey });
const HAIKU_ON_BEDROCK = [{ match: "claude-haiku-4-5", upstream: "anthropic.claude-haiku-4-5-20251001-v1:0" }];

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const haiku = (k: string, url: string) => new Anthropic({ apiKey: k, baseURL: url, maxRetries: 0 })
  .messages.create({ model: "claude-haiku-4-5", max_tokens: 20, messages: [{ role: "user", content: "which deployment?" }] });

describe("OpenAI-compatible credentials", () => {
  it("two in one workspace each serve only their own models", async () => {
    h = await startHarness();
    const now = Date.now();
    for (const id of ["deepseek-chat", "qwen3-coder", "mistral-large-latest"]) {
      await h.store.models.upsert({ id, provider: "openai-compatible", displayName: id, kind: "chat", aliases: [], maxOutputTokens: 8192, contextWindow: 128_000 }, now);
      await h.store.models.setPrice(id, { effectiveAt: 0, input: 1_000_000, output: 2_000_000, cacheWrite: 0, cacheRead: 0 });
    }
    await h.gateway.catalog.reload();
    const deepseek = await h.addCredential("openai-compatible", "deepseek-secret-0000000000", { settings: { preset: "deepseek" } });
    const vllm = await h.addCredential("openai-compatible", "vllm-secret-00000000000000", { settings: { preset: "vllm" }, models: [{ match: "qwen3-*" }] });
    const key = await h.issueKey();
    const openai = new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });
    for (let i = 0; i < 3; i++) {
      await openai.chat.completions.create({ model: "deepseek-chat", messages: [{ role: "user", content: "hi" }] });
      await openai.chat.completions.create({ model: "qwen3-coder", messages: [{ role: "user", content: "hi" }] });
    }
    // Neither declares Mistral's models: refused, not sent to whichever credential comes first.
    await expect(openai.chat.completions.create({ model: "mistral-large-latest", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 400 });
    const events = await readUntil(() => h!.usage(), (e) => e.length >= 7);
    const served = (model: string) => new Set(events.filter((e) => e.model === model).map((e) => e.deployment));
    expect(served("deepseek-chat")).toEqual(new Set([deepseek]));
    expect(served("qwen3-coder")).toEqual(new Set([vllm]));
    expect(events.find((e) => e.model === "mistral-large-latest")).toMatchObject({ status: 400, errorCode: "no_credential", deployment: null });
    expect(h.sim.stats.byKey.get("deepseek-secret-0000000000")).toBe(3);
    expect(h.sim.stats.byKey.get("vllm-secret-00000000000000")).toBe(3);
  });
});

describe("failover across providers", () => {
  it("goes from Anthropic answering 529 to Bedrock, records the deployment that served, and rests the failing one", async () => {
    h = await startHarness({ clouds: { aws: [AWS] } });
    const direct = await h.addCredential("anthropic", "anthropic-fail-529-0000000", { priority: 0 });
    const onBedrock = await h.addCredential("bedrock", bedrockSecret, { priority: 1, settings: { region: "eu-west-1" }, models: HAIKU_ON_BEDROCK });
    const key = await h.issueKey();
    for (let i = 0; i < 4; i++) expect((await haiku(key, h.url)).type).toBe("message");
    const events = await readUntil(() => h!.usage(), (e) => e.length >= 4);
    expect(events).toHaveLength(4);
    // Three times the first deployment answered 529 and the second served; then the first rested.
    expect(events.map((e) => [e.provider, e.deployment, e.attempts, e.status])).toEqual([
      ["bedrock", onBedrock, 2, 200], ["bedrock", onBedrock, 2, 200], ["bedrock", onBedrock, 2, 200], ["bedrock", onBedrock, 1, 200],
    ]);
    expect(h.sim.stats.byKey.get("anthropic-fail-529-0000000")).toBe(3);
    // Billed once per request, at the model's price.
    expect(new Set(events.map((e) => e.costNano)).size).toBe(1);
    expect(events[0]!.costNano).toBeGreaterThan(0);
    expect(direct).not.toBe(onBedrock);
    // The report splits by provider and deployment, before and after the roll-up.
    const q = { orgId: h.orgId, start: 0, end: Date.now() + 3_600_000, widthMs: 86_400_000, groupBy: ["provider", "deployment"] as ("provider" | "deployment")[], filters: {} };
    const before = await h.store.rollups.report(q);
    await h.store.rollups.rollUp(Date.now());
    for (const rows of [before, await h.store.rollups.report(q)]) {
      expect(rows.map((r) => [r.group.provider, r.group.deployment, r.requests])).toEqual([["bedrock", onBedrock, 4]]);
    }
  });

  it("goes on to the next deployment when the first refuses the connection", async () => {
    h = await startHarness({ clouds: { aws: [AWS] } });
    await h.addCredential("anthropic", "anthropic-unreachable-000", { priority: 0, baseUrl: `http://127.0.0.1:${await refusedPort()}` });
    const onBedrock = await h.addCredential("bedrock", bedrockSecret, { priority: 5, settings: { region: "us-west-2" }, models: HAIKU_ON_BEDROCK });
    const key = await h.issueKey();
    const m = await haiku(key, h.url);
    expect(m.usage.output_tokens).toBeGreaterThan(0);
    const [e] = await readUntil(() => h!.usage(), (x) => x.length >= 1);
    expect(e).toMatchObject({ provider: "bedrock", deployment: onBedrock, attempts: 2, status: 200 });
  });

  it("honours retry-after: the deployment that asked for it rests, the request goes on without waiting", async () => {
    h = await startHarness({ clouds: { azureKeys: ["azure-fail-429-key-000"] } });
    const azure = await h.addCredential("azure-openai", "azure-fail-429-key-000", { priority: 0, models: [{ match: "gpt-4o-mini", upstream: "mini" }] });
    const direct = await h.addCredential("openai", "openai-direct-000000000", { priority: 1 });
    const key = await h.issueKey();
    const openai = new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const started = Date.now();
    // Azure says retry-after: 30 s; neither request waits for it (a loaded machine takes seconds, not 30).
    await openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi sim-retry-after:30" }] });
    await openai.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi sim-retry-after:30" }] });
    expect(Date.now() - started).toBeLessThan(15_000);
    const events = await readUntil(() => h!.usage(), (e) => e.length >= 2);
    expect(events.map((e) => [e.deployment, e.attempts])).toEqual([[direct, 2], [direct, 1]]);
    expect(azure).not.toBe(direct);
  });

  it("answers the caller with the last error when every deployment fails, billed nothing", async () => {
    h = await startHarness({ clouds: { aws: [AWS] } });
    await h.addCredential("anthropic", "anthropic-fail-529-1111111", { priority: 0 });
    await h.addCredential("anthropic", "anthropic-fail-529-2222222", { priority: 1 });
    const key = await h.issueKey();
    await expect(haiku(key, h.url)).rejects.toMatchObject({ status: 529 });
    const [e] = await readUntil(() => h!.usage(), (x) => x.length >= 1);
    expect(e).toMatchObject({ status: 529, costNano: 0, attempts: 3 });
  });
});
