import { generateKeyPairSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalSecret, credentialFingerprints, fingerprintKey, fingerprintOfDigest, leakableParts, leakDigest } from "./fingerprint.js";
import { sha256Hex } from "./hashing.js";

const master = randomBytes(32);
const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();

describe("leak fingerprints", () => {
  it("are keyed from the master key: another master key gives other fingerprints, and none is the plain digest", () => {
    const secret = `sk-proj-${randomBytes(30).toString("hex")}`;
    const a = credentialFingerprints(fingerprintKey(master), secret);
    const b = credentialFingerprints(fingerprintKey(randomBytes(32)), secret);
    expect(a).toHaveLength(1);
    expect(a[0]!.fingerprint).not.toBe(b[0]!.fingerprint);
    expect(a[0]!.fingerprint).not.toBe(sha256Hex(secret));
    expect(a[0]!.fingerprint).toBe(fingerprintOfDigest(fingerprintKey(master), leakDigest(secret)));
  });

  it("a service-account key file leaks by its private key and its key id too", () => {
    const keyId = randomBytes(20).toString("hex");
    const json = JSON.stringify({ type: "service_account", project_id: "p", private_key_id: keyId, private_key: pem, client_email: "a@b.example", token_uri: "https://oauth2.googleapis.com/token" });
    const parts = leakableParts(json);
    expect(parts.map((p) => p.part)).toEqual(["secret", "private_key_id", "private_key"]);
    // The private key as a scanner finds it, JSON-escaped in a file, has the same digest as the stored one.
    const escaped = JSON.stringify(pem).slice(1, -1);
    expect(leakDigest(escaped)).toBe(leakDigest(pem));
    expect(leakDigest(JSON.stringify(escaped).slice(1, -1))).toBe(leakDigest(pem));
    expect(canonicalSecret(pem)).not.toContain("BEGIN");
  });

  it("an access-key pair or a connection string leaks by each long segment", () => {
    const id = `AKIA${randomBytes(8).toString("hex").toUpperCase()}`;
    const secret = randomBytes(30).toString("base64");
    expect(leakableParts(`${id}:${secret}`).map((p) => p.value)).toEqual([`${id}:${secret}`, id, secret]);
    expect(leakableParts(JSON.stringify({ access_key_id: id, secret_access_key: secret, region: "us-east-1" })).map((p) => p.part))
      .toEqual(["secret", "access_key_id", "secret_access_key"]);
    expect(leakableParts(JSON.stringify({ accessKeyId: id, secretAccessKey: secret })).map((p) => p.value)).toEqual(expect.arrayContaining([id, secret]));
    const azureKey = randomBytes(42).toString("base64url");
    expect(leakableParts(`Endpoint=https://x.openai.azure.com/;AccessKey=${azureKey};Version=1.0`).map((p) => p.value)).toContain(azureKey);
  });

  it("a plain key is one part; short segments are not parts", () => {
    expect(leakableParts("gsk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP")).toHaveLength(1);
    expect(leakableParts("user:short").map((p) => p.part)).toEqual(["secret"]);
  });
});
