/**
 * A value that validates against a JSON schema (draft 2020-12 and OpenAPI 3 as Gemini writes it,
 * upper-case type names included), for the simulator's tool arguments and structured output:
 * every declared property is filled, the first enum member or `anyOf` branch is taken, bounds and
 * lengths are respected. Only local `$ref`s are followed; `pattern` is not honoured.
 */
type Schema = Record<string, unknown>;

const FORMATS: Record<string, string> = {
  "date-time": "2026-01-01T00:00:00Z", date: "2026-01-01", time: "00:00:00Z", email: "sim@example.com",
  uri: "https://example.com/", url: "https://example.com/", uuid: "00000000-0000-4000-8000-000000000000", hostname: "example.com",
  ipv4: "192.0.2.1", ipv6: "2001:db8::1",
};

export function schemaValue(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (depth > 12 || !schema || typeof schema !== "object") return depth > 12 ? null : "simulated";
  const s = schema as Schema;
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  if (typeof s.$ref === "string") return schemaValue(resolveRef(s.$ref, root), root, depth + 1);
  for (const k of ["anyOf", "oneOf"] as const) {
    const options = s[k];
    if (Array.isArray(options) && options.length) {
      const pick = options.find((o) => typeOf(o as Schema) !== "null") ?? options[0];
      return schemaValue({ ...without(s, k), ...(pick as Schema) }, root, depth + 1);
    }
  }
  if (Array.isArray(s.allOf)) return schemaValue((s.allOf as Schema[]).reduce(mergeSchemas, without(s, "allOf")), root, depth + 1);
  switch (typeOf(s)) {
    case "object": return objectValue(s, root, depth);
    case "array": {
      const n = Math.max(1, Number(s.minItems ?? 1));
      const count = typeof s.maxItems === "number" ? Math.min(n, s.maxItems) : n;
      return Array.from({ length: count }, () => schemaValue(s.items ?? {}, root, depth + 1));
    }
    case "integer": return numberValue(s, true);
    case "number": return numberValue(s, false);
    case "boolean": return true;
    case "null": return null;
    default: return stringValue(s);
  }
}

function typeOf(s: Schema): string {
  const t = Array.isArray(s.type) ? (s.type as string[]).find((x) => x.toLowerCase() !== "null") ?? "null" : s.type;
  if (typeof t === "string") return t.toLowerCase();
  if (s.properties) return "object";
  if (s.items) return "array";
  return "string";
}

function objectValue(s: Schema, root: unknown, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props = (s.properties ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(props)) out[k] = schemaValue(v, root, depth + 1);
  for (const k of (s.required ?? []) as string[]) if (!(k in out)) out[k] = "simulated";
  return out;
}

function numberValue(s: Schema, integer: boolean): number {
  const exMin = typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum + (integer ? 1 : 0.5) : undefined;
  const exMax = typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum - (integer ? 1 : 0.5) : undefined;
  const min = Number(s.minimum ?? exMin ?? Number.NEGATIVE_INFINITY);
  const max = Number(s.maximum ?? exMax ?? Number.POSITIVE_INFINITY);
  let v = Math.min(Math.max(1, min), max);
  if (integer) v = Math.ceil(v) <= max ? Math.ceil(v) : Math.floor(v);
  const step = typeof s.multipleOf === "number" && s.multipleOf > 0 ? s.multipleOf : null;
  return step ? Math.ceil(v / step) * step : v;
}

function stringValue(s: Schema): string {
  let v = (typeof s.format === "string" ? FORMATS[s.format] : undefined) ?? "simulated";
  const min = Number(s.minLength ?? 0);
  if (v.length < min) v = v.padEnd(min, "x");
  if (typeof s.maxLength === "number" && v.length > s.maxLength) v = v.slice(0, s.maxLength);
  return v;
}

function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith("#")) return {};
  let node: unknown = root;
  for (const part of ref.slice(1).split("/").filter(Boolean)) {
    node = node && typeof node === "object" ? (node as Schema)[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  }
  return node ?? {};
}

/** Two schemas every value must meet, as one: their properties and required lists joined. */
function mergeSchemas(a: Schema, b: Schema): Schema {
  const properties = { ...(a.properties as Schema | undefined), ...(b.properties as Schema | undefined) };
  const required = [...((a.required ?? []) as string[]), ...((b.required ?? []) as string[])];
  return { ...a, ...b, properties, required };
}

function without(s: Schema, key: string): Schema {
  const { [key]: _drop, ...rest } = s;
  return rest;
}
