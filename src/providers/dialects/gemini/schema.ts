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

/** Values that are the caller's own data (schemas, arguments, results): their keys are never renamed. */
const OPAQUE = new Set(["args", "response", "parameters", "parametersJsonSchema", "responseSchema", "responseJsonSchema"]);

/**
 * Gemini's API is proto JSON, which accepts field names in snake_case as well as camelCase, and
 * some SDKs send snake_case (google-genai for Python: `parameters_json_schema`): both are read.
 */
export function camelizeGemini(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelizeGemini);
  if (!isObject(v)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    const key = k.includes("_") ? k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : k;
    out[key] = OPAQUE.has(key) ? x : camelizeGemini(x);
  }
  return out;
}
