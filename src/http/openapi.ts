import { z } from "zod";
import { ruleFor, type RouteDef } from "../admin/index.js";

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function buildOpenApi(routes: RouteDef[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, "{$1}");
    const params: unknown[] = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    if (r.query) {
      const schema = z.toJSONSchema(r.query, { io: "input", unrepresentable: "any" }) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(schema.properties ?? {})) {
        params.push({ name, in: "query", required: schema.required?.includes(name) ?? false, schema: s });
      }
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, "").split(/[/_-]/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join("")}`,
      parameters: params,
      responses: {
        "200": { description: "OK" },
        "400": { description: "Invalid input; `error.fields` names each bad field", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        "401": { description: "Missing or invalid credentials" },
        "403": { description: "The credentials lack the scope or role" },
      },
      ...(ruleFor(r.method, r.path).resource === "public" ? { security: [] } : { "x-required-scope": ruleFor(r.method, r.path).scope, "x-roles": ruleFor(r.method, r.path).roles }),
    };
    if (r.body) {
      op.requestBody = { required: !r.body.safeParse(undefined).success, content: { "application/json": { schema: z.toJSONSchema(r.body, { io: "input", unrepresentable: "any" }) } } };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Latchkey management API", version },
    servers: [{ url: "/" }],
    security: [{ adminKey: [] }, { session: [] }],
    components: {
      securitySchemes: {
        adminKey: { type: "http", scheme: "bearer", description: "An admin key (lk_admin_…)" },
        session: { type: "apiKey", in: "cookie", name: "latchkey_session" },
      },
      schemas: {
        Error: {
          type: "object",
          properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" }, request_id: { type: "string" }, fields: { type: "array", items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } } } }, required: ["code", "message", "request_id"] } },
        },
      },
    },
    paths,
  };
}
