import { RULE_IDS, describeRule, ruleCatalog } from "./patterns.js";
import type { ScanResult } from "./types.js";

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/**
 * SARIF 2.1.0 for code-scanning upload: one rule per detector, one result per finding with a
 * region and a partial fingerprint (so re-uploads match the same alert).
 */
export function formatSarif(result: ScanResult, toolVersion = "0.1.0"): string {
  const rules = ruleCatalog().map(({ id, confidence }) => ({
    id,
    name: id.replace(/(^|-)([a-z])/g, (_, _d: string, c: string) => c.toUpperCase()),
    shortDescription: { text: describeRule(id) },
    fullDescription: { text: `${describeRule(id)}. A secret committed to a repository must be treated as leaked: revoke it, then remove it.` },
    defaultConfiguration: { level: confidence === "low" ? "warning" : "error" },
    properties: { tags: ["security", "secret"], "security-severity": confidence === "low" ? "5.0" : "9.0" },
  }));
  const sarif = {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "latchkey", version: toolVersion, rules } },
        results: result.findings.map((f) => ({
          ruleId: f.ruleId,
          ruleIndex: RULE_IDS.indexOf(f.ruleId),
          level: f.confidence === "low" ? "warning" : "error",
          message: {
            text: `${describeRule(f.ruleId)}: ${f.masked}${f.commit ? ` (commit ${f.commit.sha.slice(0, 12)} by ${f.commit.author})` : ""}`,
          },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(f.path ?? "stdin") },
                region: { startLine: f.line, startColumn: f.column, endLine: f.endLine },
              },
            },
          ],
          partialFingerprints: { "latchkeySecret/v1": f.fingerprint },
          ...(f.commit ? { properties: { commit: f.commit.sha, author: f.commit.author, date: f.commit.date } } : {}),
        })),
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + "\n";
}
