import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src", import.meta.url));

/** Every module of src/ (tests aside). */
function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return modules(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

/**
 * The modules each one loads when it is evaluated: its relative `import ... from` and
 * `export ... from`, not `import type` (erased) nor `import()` (loaded later, on demand).
 */
function runtimeImports(file: string, known: Set<string>): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?["'](\.[^"']+)["']/gm)) {
    if (m[1]) continue;
    const target = resolve(dirname(file), m[2]!.replace(/\.js$/, ".ts"));
    if (known.has(target)) out.push(target);
  }
  return out;
}

/** The strongly connected components of more than one module (Tarjan): each is an import cycle. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(relative(SRC, w));
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/**
 * Two modules that import each other are evaluated in an order that depends on which is reached
 * first: one of them sees the other's bindings before they are set. The layers of DESIGN.md keep
 * imports pointing one way between folders (the lint rule); this keeps them from looping within one.
 */
describe("src/ imports", () => {
  it("form no cycle", () => {
    const files = modules(SRC);
    const known = new Set(files);
    const graph = new Map(files.map((f) => [f, runtimeImports(f, known)]));
    // Sanity: the walk sees real imports (the request handler's own, for one).
    expect(graph.get(join(SRC, "gateway", "handler.ts"))).toContain(join(SRC, "gateway", "exchange.ts"));
    expect(cycles(graph)).toEqual([]);
  });

  it("finds a cycle when there is one", () => {
    const graph = new Map([["/a.ts", ["/b.ts"]], ["/b.ts", ["/c.ts"]], ["/c.ts", ["/a.ts"]], ["/d.ts", ["/a.ts"]]]);
    expect(cycles(graph).map((c) => c.length)).toEqual([3]);
  });
});
