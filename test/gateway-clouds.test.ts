/**
 * Claude on Bedrock and Vertex AI, Gemini on Vertex AI, GPT on Azure OpenAI: the official SDKs
 * call Latchkey unchanged, with live keys; Latchkey reaches the simulator playing each cloud,
 * which checks what the cloud checks (SigV4 recomputed, service-account tokens, api-key and
 * api-version) and answers as it does.
 */
import { generateKeyPairSync } from "node:crypto";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeCredential } from "../src/providers/index.js";
import { readUntil, startHarness, type Harness } from "./support/gateway-harness.js";

const AWS = { accessKeyId: "AKIASIMULATOR0000001", secretAccessKey: "sim/secret/key/for/sigv4/0000000000000000", sessionToken: "sim-session-token-1" };
const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const SA_EMAIL = "latchkey@sim-project.iam.gserviceaccount.com";
const AZURE_KEY = "azure-key-0123456789abcdef";

let h: Harness;
let key: string;
let saJson: string;
let bedrockId: string;
let vertexId: string;
let azureId: string;

beforeAll(async () => {
  h = await startHarness({
    clouds: {
      aws: [AWS],
      google: [{ clientEmail: SA_EMAIL, publicKey: publicKey.export({ type: "spki", format: "pem" }).toString() }],
      azureKeys: [AZURE_KEY],
      azureDeployments: { "chat-prod": "gpt-4o-mini", "embed-prod": "text-embedding-3-small" },
    },
  });
  const sa = {
    type: "service_account", project_id: "sim-project", private_key_id: "k1", client_email: SA_EMAIL,
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), token_uri: `${h.sim.url}/token`,
  };
  saJson = JSON.stringify(sa);
  bedrockId = await h.addCredential("bedrock", JSON.stringify({ access_key_id: AWS.accessKeyId, secret_access_key: AWS.secretAccessKey, session_token: AWS.sessionToken }), {
    settings: { region: "us-east-1" }, models: [{ match: "claude-haiku-4-5", upstream: "us.anthropic.claude-haiku-4-5-20251001-v1:0" }],
  });
  vertexId = await h.addCredential("vertex", JSON.stringify(sa), {
    settings: { region: "us-east5" },
    models: [{ match: "claude-sonnet-4-6", upstream: "claude-sonnet-4-6" }, { match: "gemini-2.5-flash" }],
  });
  azureId = await h.addCredential("azure-openai", AZURE_KEY, {
    settings: { api_version: "2024-10-21" }, models: [{ match: "gpt-4o-mini", upstream: "chat-prod" }, { match: "text-embedding-3-small", upstream: "embed-prod" }],
  });
  key = await h.issueKey({ allowedModels: ["claude-haiku-4-5", "claude-sonnet-4-6", "gemini-2.5-flash", "gpt-4o-mini", "text-embedding-3-small"] });
});
afterAll(async () => h?.close());

const anthropic = () => new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 });

describe("Claude on AWS Bedrock", () => {
  it("answers the Anthropic SDK through InvokeModel, signed with SigV4 the simulator recomputes", async () => {
    const m = await anthropic().messages.create({ model: "claude-haiku-4-5", max_tokens: 50, messages: [{ role: "user", content: "hello bedrock" }] });
    expect(m.type).toBe("message");
    expect(m.content[0]).toMatchObject({ type: "text" });
    expect(m.usage.output_tokens).toBeGreaterThan(0);
    // The model id went into the path, ':' encoded as the AWS SDK does.
    expect(h.sim.cloud.seen.bedrockPaths.at(-1)).toBe("us.anthropic.claude-haiku-4-5-20251001-v1%3A0");
  });

  it("streams through the event-stream decoder with the same usage as the non-streamed twin", async () => {
    const prompt = { model: "claude-haiku-4-5", max_tokens: 60, messages: [{ role: "user" as const, content: "the same prompt, twice sim-tokens:17" }] };
    const plain = await anthropic().messages.create(prompt);
    const stream = anthropic().messages.stream(prompt);
    let text = "";
    stream.on("text", (t) => (text += t));
    const final = await stream.finalMessage();
    expect(text).toBe((plain.content[0] as { text: string }).text);
    expect(final.usage.input_tokens).toBe(plain.usage.input_tokens);
    expect(final.usage.output_tokens).toBe(17);
    const events = await readUntil(() => h.usage(), (e) => e.filter((x) => x.deployment === bedrockId).length >= 3);
    const [a, b] = events.filter((e) => e.deployment === bedrockId).slice(-2);
    expect(a).toMatchObject({ provider: "bedrock", streamed: false, status: 200, attempts: 1 });
    expect(b).toMatchObject({ provider: "bedrock", streamed: true, status: 200, attempts: 1 });
    expect([b!.inputTokens, b!.outputTokens, b!.costNano]).toEqual([a!.inputTokens, a!.outputTokens, a!.costNano]);
  });

  it("is refused by the simulator as Bedrock would when the signature is wrong, and the caller hears it in Anthropic's shape", async () => {
    const wrong = await h.addCredential("bedrock", JSON.stringify({ access_key_id: AWS.accessKeyId, secret_access_key: "not-the-secret", session_token: AWS.sessionToken }), {
      settings: { region: "us-east-1" }, models: [{ match: "claude-opus-4-7", upstream: "anthropic.claude-opus-4-7" }],
    });
    const k = await h.issueKey({ allowedModels: ["claude-opus-4-7"] });
    const r = await fetch(`${h.url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": k, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-opus-4-7", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(r.status).toBe(502);
    const body = (await r.json()) as { type: string; error: { type: string; message: string } };
    expect(body).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect(body.error.message).toContain("The request signature we calculated does not match");
    expect(JSON.stringify(body)).not.toContain("not-the-secret");
    const events = await h.usage();
    expect(events.find((e) => e.deployment === wrong)).toMatchObject({ status: 502, costNano: 0 });
  });
});

describe("Google Vertex AI", () => {
  it("answers the Anthropic SDK with Claude through rawPredict and streamRawPredict, with a minted service-account token", async () => {
    const m = await anthropic().messages.create({ model: "claude-sonnet-4-6", max_tokens: 20, messages: [{ role: "user", content: "hello vertex" }] });
    expect(m.content[0]).toMatchObject({ type: "text" });
    const s = await anthropic().messages.stream({ model: "claude-sonnet-4-6", max_tokens: 20, messages: [{ role: "user", content: "hello vertex" }] }).finalMessage();
    expect(s.usage.output_tokens).toBe(m.usage.output_tokens);
    const events = await readUntil(() => h.usage(), (e) => e.filter((x) => x.deployment === vertexId).length >= 2);
    expect(events.filter((e) => e.deployment === vertexId).map((e) => e.provider)).toEqual(["vertex", "vertex"]);
  });

  it("answers the Gemini SDK with Gemini, and adds the role Vertex requires when a raw caller leaves it out", async () => {
    const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: h.url } });
    const r = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "hello gemini on vertex" });
    expect(r.text?.length).toBeGreaterThan(0);
    let streamed = "";
    for await (const c of await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "hello gemini on vertex" })) streamed += c.text ?? "";
    expect(streamed).toBe(r.text);
    const raw = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent?key=${key}`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ contents: [{ parts: [{ text: "no role" }] }] }),
    });
    expect(raw.status).toBe(200);
  });

  it("an expired token is refused by the simulator as Google would; a new one is minted and the next request passes", async () => {
    const minted = h.sim.cloud.seen.googleTokens;
    h.sim.cloud.expireGoogleTokens();
    const r = await fetch(`${h.url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(r.status).toBe(502);
    const body = (await r.json()) as { error: { type: string; message: string } };
    expect(body.error.message).toContain("Request had invalid authentication credentials");
    await readUntil(async () => h.sim.cloud.seen.googleTokens, (n) => n > minted);
    expect(h.sim.cloud.seen.googleTokens).toBe(minted + 1);
    const again = await anthropic().messages.create({ model: "claude-sonnet-4-6", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    expect(again.type).toBe("message");
  });
});

describe("Azure OpenAI", () => {
  const openai = () => new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });

  it("answers the OpenAI SDK from a deployment URL with api-key and api-version, streamed and not, and embeddings", async () => {
    const c = await openai().chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello azure" }] });
    expect(c.model).toBe("gpt-4o-mini");
    expect(c.usage?.completion_tokens).toBeGreaterThan(0);
    let text = "";
    for await (const ch of await openai().chat.completions.create({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hello azure" }] })) {
      text += ch.choices[0]?.delta.content ?? "";
      expect(ch.usage ?? null).toBeNull();
    }
    expect(text).toBe(c.choices[0]?.message.content);
    const e = await openai().embeddings.create({ model: "text-embedding-3-small", input: "embed me" });
    expect(e.data).toHaveLength(1);
    const events = await readUntil(() => h.usage(), (x) => x.filter((u) => u.deployment === azureId).length >= 3);
    const azure = events.filter((u) => u.deployment === azureId);
    expect(azure.map((u) => [u.provider, u.status])).toEqual([["azure-openai", 200], ["azure-openai", 200], ["azure-openai", 200]]);
    expect(azure[1]!.outputTokens).toBe(azure[0]!.outputTokens);
  });

  it("answers the Responses API through the v1 surface with the deployment in model", async () => {
    const r = await openai().responses.create({ model: "gpt-4o-mini", input: "hello responses" });
    expect(r.output_text.length).toBeGreaterThan(0);
  });

  it("a refused api-key is the organization's fault, not the caller's: 502 in the caller's shape with a request id, never 401", async () => {
    const wrongKey = "azure-key-not-the-right-one-000";
    const wrong = await h.addCredential("azure-openai", wrongKey, { settings: { api_version: "2024-10-21" }, models: [{ match: "gpt-4.1-nano", upstream: "chat-prod" }] });
    const k = await h.issueKey({ allowedModels: ["gpt-4.1-nano"] });
    const r = await fetch(`${h.url}/v1/chat/completions`, {
      method: "POST", headers: { authorization: `Bearer ${k}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4.1-nano", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(r.status).toBe(502);
    expect(r.headers.get("x-request-id")).toMatch(/^req_/);
    const body = (await r.json()) as { error: { type: string; message: string } };
    expect(body.error.message).toContain("Access denied due to invalid subscription key");
    expect(JSON.stringify(body)).not.toContain(wrongKey);
    // An Anthropic caller translated onto Azure hears the same fault in Anthropic's shape.
    const a = await fetch(`${h.url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": k, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4.1-nano", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(a.status).toBe(502);
    expect(await a.json()).toMatchObject({ type: "error", error: { type: "api_error" } });
    const events = await readUntil(() => h.usage(), (x) => x.filter((u) => u.deployment === wrong).length >= 2);
    expect(events.filter((u) => u.deployment === wrong).map((u) => [u.status, u.costNano])).toEqual([[502, 0], [502, 0]]);
  });
});

describe("credential tests", () => {
  const awsSecret = (secret: string) => JSON.stringify({ access_key_id: AWS.accessKeyId, secret_access_key: secret, session_token: AWS.sessionToken });

  it("prove each cloud credential works, and say so when it does not, without generating anything", async () => {
    const invoked = h.sim.cloud.seen.bedrockPaths.length;
    expect(await probeCredential("bedrock", h.sim.url, awsSecret(AWS.secretAccessKey), 5000, { region: "us-east-1" })).toMatchObject({ ok: true, status: 200 });
    const badAws = await probeCredential("bedrock", h.sim.url, awsSecret("wrong"), 5000, { region: "us-east-1" });
    expect(badAws).toMatchObject({ ok: false, status: 403 });
    expect(await probeCredential("vertex", h.sim.url, saJson, 5000, { region: "us-east5" })).toMatchObject({ ok: true });
    const badSa = JSON.parse(saJson) as Record<string, string>;
    badSa.private_key = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(await probeCredential("vertex", h.sim.url, JSON.stringify(badSa), 5000, { region: "us-east5" })).toMatchObject({ ok: false });
    expect(await probeCredential("azure-openai", h.sim.url, AZURE_KEY, 5000, {})).toMatchObject({ ok: true, status: 200 });
    expect(await probeCredential("azure-openai", h.sim.url, "wrong-azure-key-000", 5000, {})).toMatchObject({ ok: false, status: 401 });
    // Listing and minting only: no model was invoked.
    expect(h.sim.cloud.seen.bedrockPaths.length).toBe(invoked);
  });
});
