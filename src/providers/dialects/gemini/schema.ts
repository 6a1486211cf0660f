import { isObject, type Json } from "../canonical.js";

/**
 * Gemini's OpenAPI `Schema` (upper-case types, `nullable`) → JSON Schema: lower-case types, and
 * `nullable: true` → a union with "null" (translation.md §2.1).
 */
export function fromOpenApiSchema(s: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "nullable") continue;
    if (k === "type" && typeof v === "string") out.type = s.nullable === true ? [v.toLowerCase(), "null"] : v.toLowerCase();
    else if (k === "properties" && isObject(v)) out.properties = Object.fromEntries(Object.entries(v).map(([n, p]) => [n, isObject(p) ? fromOpenApiSchema(p) : p]));
    else if ((k === "items" || k === "additionalProperties") && isObject(v)) out[k] = fromOpenApiSchema(v);
    else if ((k === "anyOf" || k === "oneOf") && Array.isArray(v)) out.anyOf = v.map((x) => (isObject(x) ? fromOpenApiSchema(x) : x));
    else if (k === "propertyOrdering") continue;
    else out[k] = v;
  }
  return out;
}
