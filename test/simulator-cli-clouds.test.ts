/**
 * The standalone `latchkey simulator`, started as an operator would, plays each cloud for the
 * credentials its flags name: Bedrock checking SigV4 for an access key, Vertex AI minting tokens
 * for a service-account key file and taking only those, Azure OpenAI taking its api-key on its
 * deployments. The clouds' own SDKs, pointed at it, are answered or refused as the cloud would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AnthropicBedrock from "@anthropic-ai/bedrock-sdk";
import { AnthropicVertex } from "@anthropic-ai/vertex-sdk";
import { JWT } from "google-auth-library";
import { AzureOpenAI } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./support/processes.js";

const AWS = { accessKeyId: "AKIASIMCLI0000000001", secretAccessKey: "cli/secret/0000000000000000000000000000", sessionToken: "cli-session:token" };
const EMAIL = "cli@sim-project.iam.gserviceaccount.com";
const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
let dir: string;
let proc: ChildProcess;
let url: string;
let out = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "latchkey-sim-cli-"));
  writeFileSync(join(dir, "sa.json"), JSON.stringify({ type: "service_account", client_email: EMAIL, private_key: privateKey, project_id: "sim-project" }));
  writeFileSync(join(dir, "clouds.json"), JSON.stringify({ azureKeys: ["azure-cli-key"] }));
  const port = await freePort();
  proc = spawn(process.execPath, [join(import.meta.dirname, "..", "bin", "latchkey.js"), "simulator", "--port", String(port),
    "--aws-key", `${AWS.accessKeyId}:${AWS.secretAccessKey}:${AWS.sessionToken}`, "--google-service-account", join(dir, "sa.json"),
    "--clouds", join(dir, "clouds.json"), "--azure-deployment", "prod=gpt-4o-mini"], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 600 && !/faults:/.test(out) && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  url = /simulator listening on (\S+)/.exec(out)?.[1] ?? "";
  if (!url) throw new Error(`latchkey simulator did not start: ${out}`);
}, 60_000);
afterAll(async () => {
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("latchkey simulator with cloud flags", () => {
  it("says what each cloud accepts, by count, never a secret", () => {
    expect(out).toContain("bedrock: 1 access key(s) (SigV4 checked)");
    expect(out).toContain("vertex: 1 service account(s)");
    expect(out).toContain("azure-openai: 1 api-key(s), 0 Entra ID app(s)");
    expect(out).toContain("deployments: prod");
    expect(out).not.toContain(AWS.secretAccessKey);
    expect(out).not.toContain("azure-cli-key");
  });

  it("plays Bedrock: the AWS signature of the named key (with its session token) passes, another secret is refused", async () => {
    const bedrock = (secret: string) => new AnthropicBedrock({
      awsAccessKey: AWS.accessKeyId, awsSecretKey: secret, awsSessionToken: AWS.sessionToken, awsRegion: "us-east-1", baseURL: url, maxRetries: 0,
    });
    const m = await bedrock(AWS.secretAccessKey).messages.create({ model: "anthropic.claude-haiku-4-5-20251001-v1:0", max_tokens: 20, messages: [{ role: "user", content: "hi sim-tokens:4" }] });
    expect(m.usage.output_tokens).toBe(4);
    const err = await bedrock("not/the/secret").messages.create({ model: "anthropic.claude-haiku-4-5-20251001-v1:0", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403 });
  });

  it("plays Vertex AI: a grant signed by the key file's key gets a token that rawPredict takes; no token is refused", async () => {
    const jwt = new JWT({ email: EMAIL, key: privateKey, scopes: ["https://www.googleapis.com/auth/cloud-platform"] });
    jwt.transporter.interceptors.request.add({ resolved: async (o) => ((o.url = new URL(`${url}/token`)), o) });
    const client = new AnthropicVertex({ region: "us-east5", projectId: "sim-project", baseURL: `${url}/v1`, authClient: jwt, maxRetries: 0 });
    const m = await client.messages.create({ model: "claude-haiku-4-5@20251001", max_tokens: 20, messages: [{ role: "user", content: "hi" }] });
    expect(m.type).toBe("message");
    const bare = await fetch(`${url}/v1/projects/sim-project/locations/us-east5/publishers/anthropic/models/claude-haiku-4-5:rawPredict`, { method: "POST", body: "{}" });
    expect(bare.status).toBe(401);
  });

  it("plays Azure OpenAI: the --clouds file's api-key on the flag's deployment; another key or deployment is refused", async () => {
    const azure = (apiKey: string, deployment: string) => new AzureOpenAI({ endpoint: url, apiKey, apiVersion: "2024-10-21", deployment, maxRetries: 0 });
    const c = await azure("azure-cli-key", "prod").chat.completions.create({ model: "", messages: [{ role: "user", content: "hi" }] });
    expect(c.model).toBe("gpt-4o-mini");
    await expect(azure("azure-cli-key", "other").chat.completions.create({ model: "", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 404 });
    await expect(azure("wrong-key", "prod").chat.completions.create({ model: "", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 401 });
  });
});
