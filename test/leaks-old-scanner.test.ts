/**
 * The kinds issue 18 lists, run through the rules the scanner had before (kept in
 * fixtures/leaks/old-rules.ts) and through today's: the old rules miss them, or find them only as
 * a low-confidence generic secret when the name happens to look secret; today's name each kind.
 * Every value is random, made for this run.
 */
import { describe, expect, it } from "vitest";
import { detectSecrets, buildRules } from "../src/leaks/index.js";
import { fake, pgpBlock, serviceAccountJson } from "./fixtures/leaks/fake-keys.js";
import { OLD_RULES } from "./fixtures/leaks/old-rules.js";

interface Kind { kind: string; ruleId: string; text: string }

/** Each kind where a team would write it, under names that do not look secret (a JSON value, a URL, a header). */
function listedKinds(): Kind[] {
  const sa = serviceAccountJson();
  return [
    { kind: "Hugging Face token", ruleId: "huggingface-token", text: `{"hub": {"value": "${fake.huggingface()}"}}` },
    { kind: "xAI key", ruleId: "xai-api-key", text: `curl -H "Authorization: Bearer ${fake.xai()}" https://api.x.ai/v1/models` },
    { kind: "Slack incoming webhook", ruleId: "slack-webhook-url", text: `alerts:\n  url: ${fake.slackWebhook()}\n` },
    { kind: "PGP private key block", ruleId: "pgp-private-key", text: pgpBlock() },
    { kind: "Bedrock API key (long-term)", ruleId: "aws-bedrock-api-key", text: `{"bedrock": {"value": "${fake.bedrock()}"}}` },
    { kind: "Bedrock API key (short-term)", ruleId: "aws-bedrock-short-term-api-key", text: `curl -H "Authorization: Bearer ${fake.bedrockShortTerm()}" https://bedrock-runtime.us-east-1.amazonaws.com` },
    { kind: "Google service-account JSON", ruleId: "google-service-account-key", text: sa.json.replace(/"private_key": "[^"]*",/, "") },
    { kind: "Groq key", ruleId: "groq-api-key", text: `{"groq": {"value": "${fake.groq()}"}}` },
    { kind: "OpenRouter key", ruleId: "openrouter-api-key", text: `https://proxy.example.test/?upstream=openrouter&k=${fake.openrouter()}` },
    { kind: "Perplexity key", ruleId: "perplexity-api-key", text: `headers: { Authorization: "Bearer ${fake.perplexity()}" }` },
    { kind: "Replicate token", ruleId: "replicate-api-token", text: `{"replicate": "${fake.replicate()}"}` },
    { kind: "Azure AD client secret", ruleId: "azure-entra-client-secret", text: `<value xsi:type="xsd:string">${fake.entra()}</value>` },
  ];
}

const namedFindings = (text: string, rules: Parameters<typeof detectSecrets>[1]) =>
  detectSecrets(text, rules).filter((f) => f.ruleId !== "generic-secret");

describe("the kinds the old rules missed", () => {
  it.each(listedKinds())("$kind: missed by the old rules, named by today's", ({ ruleId, text }) => {
    expect(namedFindings(text, OLD_RULES)).toEqual([]);
    expect(detectSecrets(text, OLD_RULES).map((f) => f.ruleId)).not.toContain(ruleId);
    expect(detectSecrets(text, buildRules()).map((f) => f.ruleId)).toContain(ruleId);
  });

  it("a CI credential id: reported by the old rules, not by today's", () => {
    // The old engine reported what the generic rule classified, unless it held six equal characters in
    // a row; today's engine applies the exclusion rules to every rule, old ones included, so the old
    // decision is replayed here from the old rule itself. Most UUIDs pass its entropy bar; a few do
    // not, so the id is one it reports.
    const oldGeneric = OLD_RULES.find((r) => r.id === "generic-secret")!;
    let uuid = fake.uuid();
    for (let i = 0; i < 100 && !oldGeneric.classify!(uuid); i++) uuid = fake.uuid();
    const text = `git branch: 'main', credentialsId: '${uuid}', url: 'https://git.example.test/app.git'\n`;
    oldGeneric.pattern.lastIndex = 0;
    const match = oldGeneric.pattern.exec(text)!;
    const value = match.groups!.sq ?? match.groups!.dq ?? match.groups!.bare;
    expect(value).toBe(uuid);
    expect(/(.)\1{5}/.test(value!)).toBe(false);
    expect(oldGeneric.classify!(value!)).toEqual({ ruleId: "generic-secret", confidence: "low" });
    expect(detectSecrets(text, buildRules())).toEqual([]);
  });

  it("the old rules found some listed kinds only as a generic secret, under a secret-looking name", () => {
    const text = `GROQ_API_KEY=${fake.groq()}\nPERPLEXITY_API_KEY=${fake.perplexity()}\n`;
    expect(detectSecrets(text, OLD_RULES).map((f) => `${f.ruleId}/${f.confidence}`)).toEqual(["generic-secret/low", "generic-secret/low"]);
    expect(detectSecrets(text, buildRules()).map((f) => `${f.ruleId}/${f.confidence}`)).toEqual(["groq-api-key/high", "perplexity-api-key/high"]);
  });
});
