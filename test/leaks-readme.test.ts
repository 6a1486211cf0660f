/** The README's table of what the scanner knows stays the scanner's own catalog. */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ruleCatalog } from "../src/leaks/index.js";

const README = readFileSync(join(resolve(import.meta.dirname, ".."), "README.md"), "utf8");

describe("README leak-scanning table", () => {
  it("lists every kind the scanner reports, with its confidence, and no other", () => {
    const rows = [...README.matchAll(/^\| `([a-z0-9-]+)` \| [^|]+ \| (high|medium|low) \|$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows.sort()).toEqual(ruleCatalog().map((r) => `${r.id} ${r.confidence}`).sort());
  });
});
