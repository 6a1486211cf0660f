import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../errors/index.js";
import { sha256Hex } from "../lib/index.js";
import { feedbackFor, parsePartnerReport, verifyGithubSignature, type GithubPublicKey } from "./github-report.js";

function keyPair(): { pem: string; privateKey: ReturnType<typeof generateKeyPairSync>["privateKey"] } {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return { pem: publicKey.export({ type: "spki", format: "pem" }).toString(), privateKey };
}

const github = keyPair();
const other = keyPair();
const KEY_ID = "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c";
const publicKeys: GithubPublicKey[] = [
  { key_identifier: "old", key: other.pem, is_current: false },
  { key_identifier: KEY_ID, key: github.pem, is_current: true },
];
const body = Buffer.from('[{"token":"NMIfyYncKcRALEXAMPLE","type":"latchkey_api_key","url":"https://github.com/o/r/blob/1/a.txt","source":"content"}]');
const signed = (data: Buffer, key = github.privateKey): string => sign("sha256", data, { key, dsaEncoding: "der" }).toString("base64");

describe("verifyGithubSignature", () => {
  it("accepts a body signed by the named key", () => {
    expect(verifyGithubSignature(body, KEY_ID, signed(body), publicKeys)).toBe(true);
  });

  it("rejects a changed body, a re-serialised body, another key, an unknown id, no signature", () => {
    const sig = signed(body);
    expect(verifyGithubSignature(Buffer.concat([body, Buffer.from(" ")]), KEY_ID, sig, publicKeys)).toBe(false);
    expect(verifyGithubSignature(Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1)), KEY_ID, sig, publicKeys)).toBe(false);
    expect(verifyGithubSignature(body, KEY_ID, signed(body, other.privateKey), publicKeys)).toBe(false);
    expect(verifyGithubSignature(body, "old", sig, publicKeys)).toBe(false);
    expect(verifyGithubSignature(body, "unknown", sig, publicKeys)).toBe(false);
    expect(verifyGithubSignature(body, KEY_ID, undefined, publicKeys)).toBe(false);
    expect(verifyGithubSignature(body, undefined, sig, publicKeys)).toBe(false);
    expect(verifyGithubSignature(body, KEY_ID, "", publicKeys)).toBe(false);
  });

  it("never throws on garbage", () => {
    const garbage = ["!!!", "AAAA", "MEQCIQ==", "a".repeat(5000), Buffer.alloc(70, 0x30).toString("base64"), "bm90IGEgc2lnbmF0dXJl"];
    for (const g of garbage) expect(verifyGithubSignature(body, KEY_ID, g, publicKeys)).toBe(false);
    const badKeys: GithubPublicKey[] = [{ key_identifier: KEY_ID, key: "not a pem" }];
    expect(verifyGithubSignature(body, KEY_ID, signed(body), badKeys)).toBe(false);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(verifyGithubSignature(body, KEY_ID, signed(body), [{ key_identifier: KEY_ID, key: rsa }])).toBe(false);
  });
});

describe("parsePartnerReport", () => {
  it("reads the documented payload, sources case-insensitively", () => {
    const raw = Buffer.from(JSON.stringify([
      { token: "t1", type: "latchkey_api_key", url: "https://github.com/x", source: "Content" },
      { token: "t2", type: "latchkey_api_key", url: "", source: "brand_new_source" },
      { token: "t3", type: "latchkey_api_key" },
    ]));
    expect(parsePartnerReport(raw)).toEqual([
      { token: "t1", type: "latchkey_api_key", url: "https://github.com/x", source: "content" },
      { token: "t2", type: "latchkey_api_key", url: "", source: "unknown" },
      { token: "t3", type: "latchkey_api_key", url: "", source: "unknown" },
    ]);
  });

  it("refuses what is not an array of matches, naming the bad fields", () => {
    for (const bad of ["{", "{}", '"x"', '[1]', '[{"type":"t"}]', '[{"token":"","type":"t"}]', '[{"token":"a","type":"t","url":5}]']) {
      expect(() => parsePartnerReport(bad), bad).toThrow(ValidationError);
    }
    try {
      parsePartnerReport('[{"token":"a","type":"t"},{"type":"t"}]');
    } catch (err) {
      expect((err as ValidationError).extra.fields).toEqual([{ field: "[1].token", message: "must be a non-empty string" }]);
    }
  });
});

describe("feedbackFor", () => {
  it("labels our keys true positives, hashed unless raw is asked", () => {
    const outcomes = [{ token: "a", type: "latchkey_api_key", isOurKey: true }, { token: "b", type: "latchkey_api_key", isOurKey: false }];
    expect(feedbackFor(outcomes)).toEqual([
      { token_hash: sha256Hex("a"), token_type: "latchkey_api_key", label: "true_positive" },
      { token_hash: sha256Hex("b"), token_type: "latchkey_api_key", label: "false_positive" },
    ]);
    expect(feedbackFor(outcomes, { raw: true })[0]).toEqual({ token_raw: "a", token_type: "latchkey_api_key", label: "true_positive" });
  });
});
