import { describe, expect, it } from "vitest";
import { ruleCatalog, scanText } from "../src/leaks/index.js";
import { buildCorpus } from "./fixtures/leaks/corpus.js";

interface Tally { tp: number; fp: number; fn: number }

describe("detector corpus: precision and recall per rule", () => {
  it("finds every planted secret and nothing else", () => {
    const corpus = buildCorpus();
    const tallies = new Map<string, Tally>();
    const tally = (rule: string): Tally => {
      let t = tallies.get(rule);
      if (!t) tallies.set(rule, (t = { tp: 0, fp: 0, fn: 0 }));
      return t;
    };
    const misses: string[] = [];
    for (const c of corpus) {
      const findings = scanText(c.text, c.path);
      const unmatched = [...findings];
      for (const e of c.expected) {
        const i = unmatched.findIndex((f) => f.ruleId === e.ruleId && f.secret === e.secret);
        if (i >= 0) {
          tally(e.ruleId).tp++;
          unmatched.splice(i, 1);
        } else {
          tally(e.ruleId).fn++;
          misses.push(`missed ${e.ruleId} in "${c.name}"`);
        }
      }
      for (const f of unmatched) {
        tally(f.ruleId).fp++;
        misses.push(`false positive ${f.ruleId} (${f.masked}) in "${c.name}"`);
      }
    }
    const rows = [...tallies.entries()].sort().map(([rule, t]) => ({
      rule,
      ...t,
      precision: t.tp + t.fp ? +(t.tp / (t.tp + t.fp)).toFixed(3) : 1,
      recall: t.tp + t.fn ? +(t.tp / (t.tp + t.fn)).toFixed(3) : 1,
    }));
    const sum = (k: keyof Tally): number => rows.reduce((n, r) => n + r[k], 0);
    const overall = { rule: "ALL", tp: sum("tp"), fp: sum("fp"), fn: sum("fn"), precision: 0, recall: 0 };
    overall.precision = +(overall.tp / (overall.tp + overall.fp)).toFixed(3);
    overall.recall = +(overall.tp / (overall.tp + overall.fn)).toFixed(3);
    console.log(`corpus: ${corpus.length} cases`);
    console.table([...rows, overall]);
    if (misses.length) console.log(misses.join("\n"));

    // Every kind the scanner knows has positives, and every rule has near misses aimed at it.
    const expectedRules = new Set(corpus.flatMap((c) => c.expected.map((e) => e.ruleId)));
    const targeted = new Set(corpus.flatMap((c) => (c.targets ? [c.targets] : [])));
    const catalog = ruleCatalog().map((r) => r.id);
    expect(catalog.filter((id) => !expectedRules.has(id)), "kinds with no positive case").toEqual([]);
    expect(catalog.filter((id) => !id.endsWith("-unverified") && !targeted.has(id)), "rules with no negative case").toEqual([]);
    expect([...targeted].filter((id) => !catalog.includes(id)), "negative cases aimed at no rule").toEqual([]);
    for (const r of rows) {
      if (r.rule === "generic-secret") {
        expect(r.precision, r.rule).toBeGreaterThanOrEqual(0.8);
        expect(r.recall, r.rule).toBeGreaterThanOrEqual(0.8);
      } else {
        expect(r.precision, r.rule).toBe(1);
        expect(r.recall, r.rule).toBeGreaterThanOrEqual(0.95);
      }
    }
    expect(overall.recall).toBeGreaterThanOrEqual(0.95);
  });
});
