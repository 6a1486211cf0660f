import type { z } from "zod";
import { ValidationError, type FieldIssue } from "../errors/index.js";

/**
 * Parses with a zod schema; on failure throws ValidationError naming every bad field. Text that is
 * not valid Unicode (a lone surrogate, which JSON's \uD800 escapes can carry) is refused first: it
 * cannot be stored as UTF-8, and the database would keep a replacement or invalid bytes instead.
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: "body" | "query"): z.infer<T> {
  const malformed = loneSurrogateAt(value);
  if (malformed !== null) throw new ValidationError([{ field: malformed || where, message: "contains a lone surrogate; text must be valid Unicode" }]);
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const fields: FieldIssue[] = [];
  for (const issue of r.error.issues) {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys) fields.push({ field: path ? `${path}.${k}` : k, message: "unknown field" });
    } else {
      fields.push({ field: path || where, message: issue.message });
    }
  }
  throw new ValidationError(fields);
}

/** In u-mode a surrogate pair is one code point, so this matches only a surrogate standing alone. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** The path of the first string (value or key) that is not well-formed UTF-16, or null. Iterative: depth costs no stack. */
function loneSurrogateAt(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, ""]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string") {
      if (LONE_SURROGATE.test(v)) return path;
    } else if (v !== null && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) {
        const at = path ? `${path}.${k}` : k;
        if (LONE_SURROGATE.test(k)) return at;
        stack.push([child, at]);
      }
    }
  }
  return null;
}
