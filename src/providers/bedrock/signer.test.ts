import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { BedrockSigner } from "./signer.js";
import { NodeSha256 } from "./sha256.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

async function both(secret: string | Uint8Array | undefined, parts: (string | Uint8Array)[]): Promise<[string, string]> {
  const a = new NodeSha256(secret);
  const b = new Sha256(secret);
  for (const p of parts) {
    a.update(p);
    b.update(p);
  }
  return [hex(await a.digest()), hex(await b.digest())];
}

describe("NodeSha256", () => {
  it("hashes as the AWS SDK's JavaScript SHA-256 does, plain and keyed, strings and bytes", async () => {
    expect(hex(await new NodeSha256().digest())).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    for (const secret of [undefined, "AWS4secret", new Uint8Array([1, 2, 3, 250])]) {
      const [a, b] = await both(secret, ["héllo ", Buffer.from("wörld"), new Uint8Array(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2)]);
      expect(a).toBe(b);
    }
  });

  it("starts over after reset", async () => {
    const h = new NodeSha256("k");
    h.update("something else");
    h.reset();
    h.update("abc");
    const [, expected] = await both("k", ["abc"]);
    expect(hex(await h.digest())).toBe(expected);
  });
});

const keys = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "tok" };
const path = "/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke";
const host = "bedrock-runtime.eu-west-1.amazonaws.com";

/** The SDK's signer as the AWS clients build it (JavaScript hash, no precomputed body hash). */
async function referenceSignature(body: Buffer, at: Date, atPath = path): Promise<Record<string, string>> {
  const signed = await new SignatureV4({ credentials: keys, region: "eu-west-1", service: "bedrock", sha256: Sha256, uriEscapePath: true }).sign({
    method: "POST", protocol: "https:", hostname: host, path: atPath, query: {},
    headers: { host, "content-type": "application/json", accept: "application/json" }, body,
  }, { signingDate: at });
  return signed.headers;
}

describe("BedrockSigner", () => {
  it("signs exactly as the SDK's signer with its default JavaScript hash", async () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    const body = Buffer.from(JSON.stringify({ anthropic_version: "bedrock-2023-05-31", max_tokens: 8, messages: [] }));
    const headers: Record<string, string> = { accept: "application/json" };
    await new BedrockSigner(keys, "eu-west-1").sign(`https://${host}`, path, headers, body, at);
    const reference = await referenceSignature(body, at);
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260102\/eu-west-1\/bedrock\/aws4_request/);
    expect(headers.authorization).toBe(reference.authorization);
    expect(headers["x-amz-content-sha256"]).toBe(reference["x-amz-content-sha256"]);
    expect(headers["x-amz-security-token"]).toBe("tok");
  });

  it("one signer keeps signing right across requests and days (its remembered key derivation follows the date)", async () => {
    const signer = new BedrockSigner(keys, "eu-west-1");
    const days = [Date.UTC(2026, 0, 2, 23, 59, 59), Date.UTC(2026, 0, 3, 0, 0, 1), Date.UTC(2026, 0, 2, 12), Date.UTC(2026, 5, 30, 8)];
    const signatures = new Set<string>();
    for (const [i, t] of days.entries()) {
      const at = new Date(t);
      const body = Buffer.from(`{"n":${i}}`);
      const headers: Record<string, string> = {};
      await signer.sign(`https://${host}`, path, headers, body, at);
      const reference = await referenceSignature(body, at);
      expect(headers.authorization).toBe(reference.authorization);
      signatures.add(headers.authorization!);
    }
    expect(signatures.size).toBe(days.length);
  });

  it("signs right when requests share a second but not their path or body (the remembered date and paths are per second and per path)", async () => {
    const signer = new BedrockSigner(keys, "eu-west-1");
    const at = new Date(Date.UTC(2026, 2, 4, 5, 6, 7, 100));
    const paths = [path, "/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke-with-response-stream", "/model/amazon.nova-pro-v1%3A0/converse", path];
    for (const [i, p] of paths.entries()) {
      const when = new Date(at.getTime() + i * 250);
      const body = Buffer.from(`{"i":${i}}`);
      const headers: Record<string, string> = {};
      await signer.sign(`https://${host}`, p, headers, body, when);
      expect(headers.authorization, p).toBe((await referenceSignature(body, when, p)).authorization);
      expect(headers["x-amz-date"]).toBe("20260304T050607Z");
    }
  });

  it("the SDK's signer still has the per-request steps a signer remembers (else signing stays right but loses about a third of its speed)", () => {
    const v4 = new SignatureV4({ credentials: keys, region: "eu-west-1", service: "bedrock", sha256: Sha256 }) as unknown as Record<string, unknown>;
    expect(typeof v4.getSigningKey).toBe("function");
    expect(typeof v4.getCanonicalPath).toBe("function");
    expect(typeof v4.formatDate).toBe("function");
  });
});
