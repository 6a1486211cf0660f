import { sha256Hex } from "../lib/index.js";
import { maskSecret } from "./mask.js";
import { describeRule, type RuleVerdict, type SecretRule } from "./patterns.js";
import type { Finding } from "./types.js";
import { joinContinuations, type JoinedText } from "./continuations.js";
import { exclusionFor } from "./exclusions.js";

interface Hit extends RuleVerdict {
  start: number;
  end: number;
  secret: string;
}

const ALLOW_MARKER = "latchkey:allow";

/**
 * One regex over all keywords of a rule set (one for case-sensitive keywords, one for the others):
 * most texts hold none, and one scan of the text costs less than a search per keyword (there are
 * about seventy). Only a text that holds some keyword pays for the per-rule search.
 */
interface KeywordGate { exact: RegExp | null; folded: RegExp | null }
const gates = new WeakMap<readonly SecretRule[], KeywordGate>();
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function gateOf(rules: readonly SecretRule[]): KeywordGate {
  let gate = gates.get(rules);
  if (!gate) {
    const union = (folded: boolean, flags: string): RegExp | null => {
      const words = [...new Set(rules.filter((r) => Boolean(r.keywordsIgnoreCase) === folded).flatMap((r) => r.keywords))];
      return words.length ? new RegExp(words.map(escape).join("|"), flags) : null;
    };
    gate = { exact: union(false, ""), folded: union(true, "i") };
    gates.set(rules, gate);
  }
  return gate;
}

function rulesFor(text: string, rules: readonly SecretRule[]): SecretRule[] {
  const gate = gateOf(rules);
  const anyExact = gate.exact?.test(text) ?? false;
  const anyFolded = gate.folded?.test(text) ?? false;
  if (!anyExact && !anyFolded) return [];
  let lower: string | undefined;
  return rules.filter((rule) => {
    if (!rule.keywordsIgnoreCase) return anyExact && rule.keywords.some((k) => text.includes(k));
    if (!anyFolded) return false;
    lower ??= text.toLowerCase();
    return rule.keywords.some((k) => lower!.includes(k));
  });
}

function runRule(rule: SecretRule, text: string, hits: Hit[]): void {
  rule.pattern.lastIndex = 0;
  for (let m = rule.pattern.exec(text); m; m = rule.pattern.exec(text)) {
    const groups = m.groups;
    const secret = groups?.secret ?? groups?.dq ?? groups?.sq ?? groups?.bare ?? m[0];
    // A rule whose secret is not the last occurrence of itself in the match (a URL's password) asks for indices.
    const start = m.indices?.groups?.secret?.[0] ?? m.index + m[0].lastIndexOf(secret);
    const candidate = { ruleId: rule.id, confidence: rule.confidence, secret, name: groups?.name, text, start, end: start + secret.length };
    if (exclusionFor(candidate, rule.multiline === true)) {
      if (m[0].length === 0) rule.pattern.lastIndex++;
      continue;
    }
    const verdict = rule.classify ? rule.classify(secret) : { ruleId: rule.id, confidence: rule.confidence };
    if (verdict) hits.push({ ...verdict, start, end: start + secret.length, secret });
    if (m[0].length === 0) rule.pattern.lastIndex++;
  }
}

/** Every secret in `text`, with 1-based line and column; lines marked `latchkey:allow` are skipped. */
export function detectSecrets(text: string, rules: readonly SecretRule[]): Finding[] {
  const hits: Hit[] = [];
  for (const rule of rulesFor(text, rules)) runRule(rule, text, hits);
  const joined = joinContinuations(text);
  const all = joined ? mergeSplitHits(hits, splitHits(joined, rules)) : hits;
  if (all.length === 0) return [];
  return toFindings(text, dropShadowedLowHits(all));
}

/** Secrets cut across lines by string concatenation or line continuations, mapped back. */
function splitHits(joined: JoinedText, rules: readonly SecretRule[]): Hit[] {
  const out: Hit[] = [];
  for (const rule of rulesFor(joined.text, rules)) {
    if (rule.multiline || rule.confidence === "low") continue;
    const found: Hit[] = [];
    runRule(rule, joined.text, found);
    for (const hit of found) {
      if (!joined.crossesJoin(hit.start, hit.end)) continue;
      out.push({ ...hit, start: joined.toOriginal(hit.start), end: joined.toOriginal(hit.end - 1) + 1 });
    }
  }
  return out;
}

/** A split key replaces what the direct pass saw of its first half (variable-length formats match it). */
function mergeSplitHits(direct: Hit[], split: Hit[]): Hit[] {
  if (split.length === 0) return direct;
  const kept = direct.filter((d) => !split.some((s) => s.start === d.start && s.ruleId === d.ruleId));
  return [...kept, ...split];
}

/** A low-confidence hit over a named one (a provider key assigned to `api_key = …`) says nothing new. */
function dropShadowedLowHits(hits: Hit[]): Hit[] {
  const named = hits.filter((h) => h.confidence !== "low");
  return hits.filter((h) => h.confidence !== "low" || !named.some((x) => x.start < h.end && h.start < x.end));
}

function toFindings(text: string, hits: Hit[]): Finding[] {
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid; else hi = mid - 1;
    }
    return lo;
  };
  const findings: Finding[] = [];
  for (const hit of hits.sort((a, b) => a.start - b.start)) {
    const first = lineOf(hit.start);
    const last = lineOf(Math.max(hit.start, hit.end - 1));
    const spanText = text.slice(lineStarts[first], lineStarts[last + 1] ?? text.length);
    if (spanText.includes(ALLOW_MARKER)) continue;
    findings.push({
      ruleId: hit.ruleId,
      description: describeRule(hit.ruleId),
      confidence: hit.confidence,
      secret: hit.secret,
      masked: maskSecret(hit.secret),
      line: first + 1,
      column: hit.start - lineStarts[first]! + 1,
      endLine: last + 1,
      fingerprint: fingerprintOf(hit.ruleId, hit.secret),
    });
  }
  return findings;
}

export function fingerprintOf(ruleId: string, secret: string): string {
  return `${ruleId}:${sha256Hex(secret).slice(0, 16)}`;
}
