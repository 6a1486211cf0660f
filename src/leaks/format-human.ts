import pc from "picocolors";
import type { Finding, ScanResult } from "./types.js";

export interface KeyStatusNote {
  /** Keyed by finding fingerprint: e.g. "live: key_abc (deploy bot, wrk_x)" or "not a key of this server". */
  [fingerprint: string]: string;
}

function location(f: Finding): string {
  return `${f.path ?? "<text>"}:${f.line}:${f.column}`;
}

function describe(f: Finding, notes: KeyStatusNote): string[] {
  const confidence = f.confidence === "medium" ? `  ${pc.dim("(medium confidence)")}` : "";
  const lines = [`${pc.bold(location(f))}  ${pc.red(f.ruleId)}  ${f.masked}${confidence}`];
  lines.push(`    ${pc.dim(f.description)}  ${pc.dim(`fingerprint ${f.fingerprint}`)}`);
  if (f.commit) {
    lines.push(`    ${pc.dim(`commit ${f.commit.sha.slice(0, 12)}  ${f.commit.author} <${f.commit.email}>  ${f.commit.date}`)}`);
  }
  const note = notes[f.fingerprint];
  if (note) lines.push(`    ${note}`);
  return lines;
}

/** The report for people: masked secrets, where they are, high-confidence findings first. */
export function formatHuman(result: ScanResult, notes: KeyStatusNote = {}): string {
  const high = result.findings.filter((f) => f.confidence !== "low");
  const low = result.findings.filter((f) => f.confidence === "low");
  const out: string[] = [];
  if (high.length) {
    out.push(pc.red(pc.bold(`${high.length} secret${high.length === 1 ? "" : "s"} found:`)), "");
    for (const f of high) out.push(...describe(f, notes), "");
  }
  if (low.length) {
    out.push(pc.yellow(pc.bold(`${low.length} possible secret${low.length === 1 ? "" : "s"} (low confidence):`)), "");
    for (const f of low) out.push(...describe(f, notes), "");
  }
  for (const e of result.errors) out.push(pc.yellow(`warning: ${e.path}: ${e.message}`));
  const what = result.findings.length === 0 ? pc.green("no secrets found") : `${result.findings.length} finding(s)`;
  out.push(pc.dim(`scanned ${result.scanned}, skipped ${result.skipped.length}: `) + what);
  return out.join("\n") + "\n";
}

/** Findings as JSON: never the plaintext, only its masked form and SHA-256. */
export function formatJson(result: ScanResult, notes: KeyStatusNote = {}): string {
  return JSON.stringify(
    {
      findings: result.findings.map((f) => ({
        rule_id: f.ruleId,
        description: f.description,
        confidence: f.confidence,
        masked: f.masked,
        fingerprint: f.fingerprint,
        path: f.path ?? null,
        line: f.line,
        column: f.column,
        end_line: f.endLine,
        commit: f.commit ?? null,
        status: notes[f.fingerprint] ?? null,
      })),
      scanned: result.scanned,
      skipped: result.skipped,
      errors: result.errors,
    },
    null,
    2,
  ) + "\n";
}
