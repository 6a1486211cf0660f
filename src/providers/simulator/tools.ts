import { schemaValue } from "./schema-value.js";
import { simId, type Script } from "./script.js";

/** The API shape a request body is in (Chat Completions and Responses differ though both are OpenAI's). */
export type SimShape = "anthropic" | "chat" | "responses" | "gemini" | "converse";

/** A tool call the simulator makes: the first declared tool (or the one forced), with arguments fitting its schema. */
export interface ToolCall {
  id: string;
  name: string;
  args: unknown;
  /** The arguments as JSON, and in the pieces a stream sends them (each piece one output token). */
  json: string;
  pieces: string[];
}

type Json = Record<string, unknown>;

/** Splits text into the pieces a stream sends, about four characters each (one token). */
export function tokenPieces(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 4) out.push(text.slice(i, i + 4));
  return out.length ? out : [""];
}

/**
 * Whether to call a tool: when tools are declared, the caller has not forbidden them, and the
 * last message is not a tool's result (after a result, the model answers in text).
 */
export function planToolCall(shape: SimShape, body: Json): ToolCall | null {
  const declared = declaredTools(shape, body);
  if (!declared.length || lastIsToolResult(shape, body)) return null;
  const forced = forcedTool(shape, body);
  if (forced === false) return null;
  const tool = (forced ? declared.find((t) => t.name === forced) : undefined) ?? declared[0]!;
  const args = schemaValue(tool.schema ?? { type: "object" });
  const json = JSON.stringify(args);
  return { id: simId(shape === "anthropic" ? "toolu_sim" : "call_sim"), name: tool.name, args, json, pieces: tokenPieces(json) };
}

/** The JSON text structured output asks for (a schema, or any JSON object), or null when none is asked. */
export function planStructured(shape: SimShape, body: Json): string | null {
  const schema = structuredSchema(shape, body);
  if (schema === undefined) return null;
  return JSON.stringify(schema === null ? { answer: "Hello from the Latchkey simulator" } : schemaValue(schema));
}

/** Makes the script's answer the structured output's JSON, in token-sized pieces, cut at `maxTokens` as a model would be. */
export function answerStructured(script: Script, json: string, maxTokens: number | null): void {
  const pieces = tokenPieces(json);
  script.words = maxTokens !== null && maxTokens < pieces.length ? pieces.slice(0, maxTokens) : pieces;
  script.stopReason = script.words.length < pieces.length ? "max_tokens" : "end";
}

function declaredTools(shape: SimShape, body: Json): { name: string; schema: unknown }[] {
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  switch (shape) {
    case "anthropic": return tools.filter((t) => typeof t.name === "string" && t.input_schema).map((t) => ({ name: t.name as string, schema: t.input_schema }));
    case "chat": return tools.filter((t) => t.type === "function" && t.function).map((t) => ({ name: String((t.function as Json).name), schema: (t.function as Json).parameters }));
    case "responses": return tools.filter((t) => t.type === "function").map((t) => ({ name: String(t.name), schema: t.parameters }));
    case "gemini": return tools.flatMap((t) => (Array.isArray(t.functionDeclarations) ? (t.functionDeclarations as Json[]) : []))
      .map((f) => ({ name: String(f.name), schema: f.parametersJsonSchema ?? f.parameters }));
    case "converse": {
      const specs = ((body.toolConfig as Json | undefined)?.tools ?? []) as Json[];
      return specs.map((t) => t.toolSpec as Json | undefined).filter((t): t is Json => !!t && typeof t.name === "string")
        .map((t) => ({ name: t.name as string, schema: (t.inputSchema as Json | undefined)?.json }));
    }
  }
}

/** The tool the caller forces (its name), false when it forbids tools, null when the model chooses. */
function forcedTool(shape: SimShape, body: Json): string | false | null {
  const choice = body.tool_choice as Json | string | undefined;
  if (shape === "gemini") {
    const cfg = ((body.toolConfig as Json | undefined)?.functionCallingConfig ?? {}) as Json;
    if (String(cfg.mode ?? "").toUpperCase() === "NONE") return false;
    const names = cfg.allowedFunctionNames as string[] | undefined;
    return names?.[0] ?? null;
  }
  if (shape === "converse") {
    const c = ((body.toolConfig as Json | undefined)?.toolChoice ?? {}) as Json;
    return c.tool ? String((c.tool as Json).name) : null;
  }
  if (choice === "none" || (typeof choice === "object" && choice?.type === "none")) return false;
  if (typeof choice !== "object" || !choice) return null;
  if (shape === "anthropic") return choice.type === "tool" ? String(choice.name) : null;
  if (shape === "chat") return choice.type === "function" ? String((choice.function as Json | undefined)?.name) : null;
  return choice.type === "function" ? String(choice.name) : null;
}

function lastIsToolResult(shape: SimShape, body: Json): boolean {
  switch (shape) {
    case "anthropic": {
      const last = (body.messages as Json[] | undefined)?.at(-1);
      return Array.isArray(last?.content) && (last.content as Json[]).some((p) => p.type === "tool_result");
    }
    case "chat": return (body.messages as Json[] | undefined)?.at(-1)?.role === "tool";
    case "responses": {
      const input = body.input;
      return Array.isArray(input) && (input.at(-1) as Json | undefined)?.type === "function_call_output";
    }
    case "gemini": {
      const last = (body.contents as Json[] | undefined)?.at(-1);
      return Array.isArray(last?.parts) && (last.parts as Json[]).some((p) => p.functionResponse);
    }
    case "converse": {
      const last = (body.messages as Json[] | undefined)?.at(-1);
      return Array.isArray(last?.content) && (last.content as Json[]).some((p) => p.toolResult);
    }
  }
}

/** The requested schema; null for JSON without a schema; undefined when plain text is asked for. */
function structuredSchema(shape: SimShape, body: Json): unknown {
  switch (shape) {
    case "anthropic": {
      const f = (body.output_format ?? (body.output_config as Json | undefined)?.format) as Json | undefined;
      return f?.type === "json_schema" ? (f.schema ?? null) : undefined;
    }
    case "chat": {
      const f = body.response_format as Json | undefined;
      if (f?.type === "json_schema") return (f.json_schema as Json | undefined)?.schema ?? null;
      return f?.type === "json_object" ? null : undefined;
    }
    case "responses": {
      const f = (body.text as Json | undefined)?.format as Json | undefined;
      if (f?.type === "json_schema") return f.schema ?? null;
      return f?.type === "json_object" ? null : undefined;
    }
    case "converse": {
      // Converse carries the schema as a JSON string (checked by converseProblem before this).
      const f = ((body.outputConfig as Json | undefined)?.textFormat ?? undefined) as Json | undefined;
      const schema = ((f?.structure as Json | undefined)?.jsonSchema as Json | undefined)?.schema;
      return typeof schema === "string" ? (JSON.parse(schema) as unknown) : undefined;
    }
    case "gemini": {
      const g = (body.generationConfig ?? {}) as Json;
      const schema = g.responseJsonSchema ?? g.responseSchema ?? g.response_json_schema ?? g.response_schema;
      if (schema) return schema;
      return g.responseMimeType === "application/json" ? null : undefined;
    }
  }
}
