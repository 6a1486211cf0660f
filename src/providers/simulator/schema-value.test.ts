import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { schemaValue } from "./schema-value.js";

const ajv = new Ajv2020({ strict: false, validateFormats: false });

const SCHEMAS: Record<string, unknown> = {
  "flat object with enum and integer bounds": {
    type: "object", additionalProperties: false, required: ["city", "unit", "days"],
    properties: { city: { type: "string", minLength: 12 }, unit: { enum: ["celsius", "fahrenheit"] }, days: { type: "integer", minimum: 3, maximum: 7 } },
  },
  "nested arrays and refs": {
    type: "object", required: ["items"], $defs: { item: { type: "object", required: ["id", "tags"], properties: { id: { type: "integer", exclusiveMinimum: 10 }, tags: { type: "array", items: { type: "string", maxLength: 3 }, minItems: 2 } } } },
    properties: { items: { type: "array", items: { $ref: "#/$defs/item" }, minItems: 1, maxItems: 3 } },
  },
  "nullable union and const": { type: "object", properties: { note: { anyOf: [{ type: "null" }, { type: "string" }] }, kind: { const: "report" }, score: { type: ["number", "null"], maximum: 0.5 } }, required: ["note", "kind", "score"] },
  "allOf and multipleOf": { allOf: [{ type: "object", properties: { a: { type: "integer", multipleOf: 5, minimum: 6 } }, required: ["a"] }, { properties: { b: { type: "boolean" } }, required: ["b"] }] },
  "top-level array": { type: "array", items: { type: "number", minimum: -3, maximum: -1 } },
};

describe("schemaValue", () => {
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    it(`produces a value the schema accepts: ${name}`, () => {
      const value = schemaValue(schema);
      const ok = ajv.validate(schema as object, value);
      expect(ajv.errors ?? null, JSON.stringify(value)).toBeNull();
      expect(ok).toBe(true);
    });
  }

  it("reads Gemini's OpenAPI schemas with upper-case types", () => {
    const v = schemaValue({ type: "OBJECT", properties: { n: { type: "INTEGER" }, tags: { type: "ARRAY", items: { type: "STRING" } }, ok: { type: "BOOLEAN" } }, required: ["n"] });
    expect(v).toEqual({ n: 1, tags: ["simulated"], ok: true });
  });

  it("stops on a self-referencing schema instead of recursing for ever", () => {
    const schema = { $ref: "#/$defs/node", $defs: { node: { type: "object", properties: { next: { $ref: "#/$defs/node" } } } } };
    expect(JSON.stringify(schemaValue(schema)).length).toBeLessThan(1000);
  });
});
