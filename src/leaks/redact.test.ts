import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { fake } from "../../test/fixtures/leaks/fake-keys.js";
import { createRedactor, redactSecrets, redactUrl, REDACT_HEADER_PATHS } from "./redact.js";

describe("redactSecrets", () => {
  it("masks every provider key shape and leaves the rest of the line alone", () => {
    const keys = [
      fake.latchkey(), fake.latchkeyBadChecksum("lk_admin_"), fake.anthropic(), fake.anthropic("admin01"),
      fake.openai("proj"), fake.openaiLegacy(), fake.google(), fake.github(), fake.githubFineGrained(),
      fake.aws(), fake.stripe("rk_live"), fake.slack(),
      fake.openrouter(), fake.deepseek(), fake.groq(), fake.xai(), fake.perplexity(), fake.replicate(), fake.huggingface(),
      fake.together(), fake.googleOauth(), fake.bedrock(), fake.bedrockShortTerm(), fake.azure(), fake.entra(),
      fake.slackWebhook(), fake.discordWebhook(),
    ];
    for (const key of keys) {
      const line = `{"msg":"upstream call","key":"${key}","status":200}`;
      const out = redactSecrets(line);
      expect(out, key.slice(0, 12)).not.toContain(key);
      expect(out).toContain("…");
      expect(out.startsWith('{"msg":"upstream call","key":"')).toBe(true);
      expect(out.endsWith('","status":200}')).toBe(true);
    }
  });

  it("masks bearer tokens and private key blocks, and is idempotent", () => {
    const line = "authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789 done";
    const once = redactSecrets(line);
    expect(once).toBe("authorization: Bearer abcdefghijkl…6789 done");
    expect(redactSecrets(once)).toBe(once);
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    expect(redactSecrets(`key=${pem}`)).not.toContain("MIIEvQIBADANBgkq");
  });

  it("returns a line without key-like text unchanged", () => {
    // Its cost per log line is printed by `npm run bench -- leaks-scan`, not timed here.
    const line = '{"level":30,"time":1700000000000,"req_id":"req_123","msg":"request completed","ms":12.5}';
    expect(redactSecrets(line)).toBe(line);
    const key = fake.latchkey();
    const masked = redactSecrets(`{"msg":"bad key ${key}"}`);
    expect(masked).not.toContain(key);
    expect(masked).toContain(key.slice(0, 12));
  });

  it("knows custom Latchkey prefixes when asked", () => {
    const key = fake.latchkey("acme_key_");
    expect(redactSecrets(`k=${key}`)).toContain(key);
    expect(createRedactor(["acme_key_"])(`k=${key}`)).not.toContain(key);
  });
});

describe("redactUrl", () => {
  it("masks ?key= and keeps the path and other parameters", () => {
    const key = fake.google();
    const out = redactUrl(`/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=${key}`);
    expect(out).not.toContain(key);
    expect(out).toMatch(/^\/v1beta\/models\/gemini-2\.5-flash:streamGenerateContent\?alt=sse&key=AIza.+…/);
    expect(redactUrl("/v1/models?limit=10")).toBe("/v1/models?limit=10");
  });
});

describe("REDACT_HEADER_PATHS with pino", () => {
  it("censors credential headers in logged requests", () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const log = pino({ redact: { paths: [...REDACT_HEADER_PATHS], censor: "[redacted]" } }, sink);
    const key = fake.latchkey();
    log.info({ req: { headers: { authorization: `Bearer ${key}`, "x-api-key": key, "x-goog-api-key": key, cookie: "s=1", accept: "*/*" } } }, "req");
    const record = JSON.parse(lines[0]!) as { req: { headers: Record<string, string> } };
    expect(lines[0]).not.toContain(key);
    expect(record.req.headers).toEqual({ authorization: "[redacted]", "x-api-key": "[redacted]", "x-goog-api-key": "[redacted]", cookie: "[redacted]", accept: "*/*" });
  });
});
