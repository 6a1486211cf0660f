/**
 * The simulator plays each cloud faithfully: the clouds' own official SDKs, pointed straight at
 * it, get their answers (so the SigV4 it recomputes is the AWS SDK's, the event-stream frames it
 * writes are what the SDK decodes, the token grant is what google-auth-library sends), and a
 * wrong secret, a missing api-version or an unknown deployment is refused as the cloud would.
 */
import { generateKeyPairSync } from "node:crypto";
import AnthropicBedrock from "@anthropic-ai/bedrock-sdk";
import { AnthropicVertex } from "@anthropic-ai/vertex-sdk";
import { JWT } from "google-auth-library";
import { AzureOpenAI } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";

const AWS = { accessKeyId: "AKIASIMULATOR0000003", secretAccessKey: "sdk/fidelity/secret/0000000000000000000000" };
const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const EMAIL = "fidelity@sim-project.iam.gserviceaccount.com";
let sim: SimulatorServer;

beforeAll(async () => {
  sim = await createSimulatorServer({
    clouds: {
      aws: [AWS], google: [{ clientEmail: EMAIL, publicKey: publicKey.export({ type: "spki", format: "pem" }).toString() }],
      azureKeys: ["azure-fidelity-key"], azureDeployments: { prod: "gpt-4o-mini" },
    },
  });
});
afterAll(async () => sim?.close());

describe("Bedrock, as the Anthropic Bedrock SDK (AWS signer) sees it", () => {
  const client = (secret: string) => new AnthropicBedrock({ awsAccessKey: AWS.accessKeyId, awsSecretKey: secret, awsRegion: "us-east-1", baseURL: sim.url, maxRetries: 0 });

  it("accepts the SDK's SigV4 and answers InvokeModel and the event stream", async () => {
    const m = await client(AWS.secretAccessKey).messages.create({ model: "anthropic.claude-haiku-4-5-20251001-v1:0", max_tokens: 30, messages: [{ role: "user", content: "hi sim-tokens:9" }] });
    expect(m.usage.output_tokens).toBe(9);
    const s = await client(AWS.secretAccessKey).messages.stream({ model: "anthropic.claude-haiku-4-5-20251001-v1:0", max_tokens: 30, messages: [{ role: "user", content: "hi sim-tokens:9" }] }).finalMessage();
    expect(s.content).toEqual(m.content);
    expect(s.usage.output_tokens).toBe(9);
  });

  it("refuses a wrong secret with Bedrock's InvalidSignatureException", async () => {
    const err = await client("not/the/secret").messages.create({ model: "anthropic.claude-haiku-4-5-20251001-v1:0", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403 });
    expect(String((err as Error).message)).toContain("signature we calculated does not match");
  });
});

describe("Vertex AI, as google-auth-library and the Anthropic Vertex SDK see it", () => {
  const auth = () => {
    const jwt = new JWT({ email: EMAIL, key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), scopes: ["https://www.googleapis.com/auth/cloud-platform"] });
    jwt.transporter.interceptors.request.add({ resolved: async (o) => ((o.url = new URL(`${sim.url}/token`)), o) });
    return jwt;
  };

  it("mints a token from a signed JWT grant and answers rawPredict with it", async () => {
    const client = new AnthropicVertex({ region: "us-east5", projectId: "sim-project", baseURL: `${sim.url}/v1`, authClient: auth(), maxRetries: 0 });
    const m = await client.messages.create({ model: "claude-haiku-4-5@20251001", max_tokens: 20, messages: [{ role: "user", content: "hi" }] });
    expect(m.type).toBe("message");
  });

  it("refuses a grant signed by another key, and a request with no token", async () => {
    const other = new JWT({ email: EMAIL, key: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(), scopes: ["https://www.googleapis.com/auth/cloud-platform"] });
    other.transporter.interceptors.request.add({ resolved: async (o) => ((o.url = new URL(`${sim.url}/token`)), o) });
    await expect(other.authorize()).rejects.toThrow(/invalid_grant/);
    const r = await fetch(`${sim.url}/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-haiku-4-5:rawPredict`, { method: "POST", body: "{}" });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: { code: 401, status: "UNAUTHENTICATED" } });
  });
});

describe("Azure OpenAI, as the OpenAI SDK's AzureOpenAI client sees it", () => {
  it("answers a deployment with api-key and api-version; refuses an unknown deployment and a wrong key as Azure does", async () => {
    const ok = new AzureOpenAI({ endpoint: sim.url, apiKey: "azure-fidelity-key", apiVersion: "2024-10-21", deployment: "prod", maxRetries: 0 });
    const c = await ok.chat.completions.create({ model: "", messages: [{ role: "user", content: "hi" }] });
    expect(c.model).toBe("gpt-4o-mini");
    const missing = new AzureOpenAI({ endpoint: sim.url, apiKey: "azure-fidelity-key", apiVersion: "2024-10-21", deployment: "nope", maxRetries: 0 });
    await expect(missing.chat.completions.create({ model: "", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 404, code: "DeploymentNotFound" });
    const wrong = new AzureOpenAI({ endpoint: sim.url, apiKey: "wrong", apiVersion: "2024-10-21", deployment: "prod", maxRetries: 0 });
    await expect(wrong.chat.completions.create({ model: "", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 401 });
    const r = await fetch(`${sim.url}/openai/deployments/prod/chat/completions`, { method: "POST", headers: { "api-key": "azure-fidelity-key" }, body: JSON.stringify({ messages: [] }) });
    expect(r.status).toBe(404);
  });
});
