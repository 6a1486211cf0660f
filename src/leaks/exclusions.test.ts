import { describe, expect, it } from "vitest";
import { chars, fake, hex } from "../../test/fixtures/leaks/fake-keys.js";
import { EXCLUSIONS, exclusionFor, type Candidate } from "./exclusions.js";
import { scanText } from "./scanner.js";

/** A candidate as the engine builds it: `text` with the secret at `[`…`]`. */
function candidate(ruleId: string, marked: string, name?: string, confidence: Candidate["confidence"] = "high"): Candidate {
  const start = marked.indexOf("[");
  const end = marked.indexOf("]") - 1;
  const text = marked.replace("[", "").replace("]", "");
  return { ruleId, confidence, secret: text.slice(start, end), name, text, start, end };
}

// For each exclusion: matches it removes, and look-alikes it must leave to the rule.
const CASES: Record<string, { excluded: Candidate[]; kept: Candidate[] }> = {
  "placeholder": {
    excluded: [
      candidate("mistral-api-key", "MISTRAL_API_KEY=[your-mistral-key-0000]", "MISTRAL_API_KEY", "medium"),
      candidate("generic-secret", "api_key = \"[test1234567890abc]\"", "api_key", "low"),
      candidate("database-url-password", "postgres://[postgres]@db", "postgres"),
      candidate("database-url-password", "mysql://app:[app]@db", "app"),
      candidate("anthropic-api-key", `k = "[sk-ant-api03-${chars(40)}EXAMPLE${chars(46)}AA]"`),
    ],
    // Short words occur by chance in random keys, so they only count on the low-confidence rule.
    kept: [
      candidate("anthropic-api-key", `k = "[sk-ant-api03-${chars(40)}test${chars(49)}AA]"`),
      candidate("database-url-password", `postgres://app:[${chars(20)}]@db`, "app", "medium"),
    ],
  },
  "documentation-ellipsis": {
    excluded: [
      candidate("slack-webhook-url", `url: [https://hooks.slack.com/services/T0123ABCD/B0123ABCD/${chars(24)}]...`),
      candidate("openai-project-key", `…[sk-proj-${chars(30)}T3BlbkFJ${chars(30)}]`),
      candidate("database-url-password", "postgres://app:[...]@db", "app", "medium"),
    ],
    kept: [candidate("groq-api-key", `key: [gsk_${chars(52)}].`)],
  },
  "repeated-characters": {
    excluded: [
      candidate("google-api-key", "[AIzaSyUpstreamSecretGeminiKey0000000000]"),
      candidate("cohere-api-key", `CO_API_KEY=[${"x".repeat(40)}]`, "CO_API_KEY", "medium"),
    ],
    kept: [candidate("google-api-key", `[AIza${chars(35)}]`)],
  },
  "environment-reference": {
    excluded: [
      candidate("database-url-password", "postgres://app:[${DB_PASSWORD}]@db", "app", "medium"),
      candidate("database-url-password", "postgres://app:[$DB_PASSWORD]@db", "app", "medium"),
      candidate("database-url-password", "mysql://app:[%DB_PASSWORD%]@db", "app", "medium"),
      candidate("database-url-password", "postgres://app:[{{ secrets.DB_PASSWORD }}]@db", "app", "medium"),
      candidate("generic-secret", "token: [process.env.TOKEN]", "token", "low"),
    ],
    kept: [candidate("database-url-password", `postgres://app:[p$${chars(12)}]@db`, "app", "medium")],
  },
  "ci-credential-id": {
    excluded: [
      candidate("generic-secret", `credentialsId: '[${fake.uuid()}]'`, "credentialsId", "low"),
      candidate("generic-secret", `"credential_id": "[${fake.uuid()}]"`, "credential_id", "low"),
      candidate("generic-secret", `DEPLOY = credentials('[${fake.uuid()}]')`, undefined, "low"),
    ],
    // A UUID under a secret's own name is a secret (some vendors' keys are UUIDs).
    kept: [
      candidate("generic-secret", `api_key: '[${fake.uuid()}]'`, "api_key", "low"),
      candidate("generic-secret", `credentialsId: '[${hex(32)}]'`, "credentialsId", "low"),
    ],
  },
};

describe("exclusion rules", () => {
  it("every exclusion has cases here, and nothing here names an unknown exclusion", () => {
    expect(Object.keys(CASES).sort()).toEqual(EXCLUSIONS.map((e) => e.id).sort());
  });

  for (const rule of EXCLUSIONS) {
    it(`${rule.id}: excludes its cases and keeps the look-alikes`, () => {
      const { excluded, kept } = CASES[rule.id]!;
      for (const c of excluded) expect(rule.excludes(c), `${rule.id} should exclude ${c.secret}`).toBe(true);
      for (const c of kept) expect(exclusionFor(c, false), `nothing should exclude ${c.secret}`).toBeNull();
    });
  }

  it("a private key block is only excluded when it is cut short", () => {
    const block = candidate("private-key", `[-----BEGIN PRIVATE KEY-----\n${"A".repeat(64)}\n-----END PRIVATE KEY-----]`);
    expect(exclusionFor(block, true)).toBeNull();
    expect(exclusionFor(candidate("private-key", "[-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----]"), true)?.id)
      .toBe("documentation-ellipsis");
  });

  it("applies through the scanner: the issue's CI credential id is not reported", () => {
    const jenkinsfile = `pipeline {\n  stages { stage('co') { steps {\n    git branch: 'main', credentialsId: '${fake.uuid()}', url: 'https://git.example.test/a.git'\n  } } }\n}\n`;
    expect(scanText(jenkinsfile, "Jenkinsfile")).toEqual([]);
  });
});
