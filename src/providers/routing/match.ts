/** `*` matches any run of characters (slashes and dots included); everything else is literal. */
export function matchesPattern(pattern: string, name: string): boolean {
  if (!pattern.includes("*")) return pattern === name;
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re.test(name);
}

const patternCache = new Map<string, RegExp>();

/** Whether a pattern names a model: its id, one of its aliases or the name the caller used. */
export function matchesModel(pattern: string, id: string, aliases: readonly string[], asCalled: string): boolean {
  if (matchesPattern(pattern, id) || matchesPattern(pattern, asCalled)) return true;
  for (const a of aliases) if (matchesPattern(pattern, a)) return true;
  return false;
}
