import type { z } from "zod";
import { ValidationError, type FieldIssue } from "../errors/index.js";

/** Parses with a zod schema; on failure throws ValidationError naming every bad field. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: "body" | "query"): z.infer<T> {
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
