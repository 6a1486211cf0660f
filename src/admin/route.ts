import type { z } from "zod";
import type { Actor } from "../keys/index.js";
import type { AdminServices } from "./services.js";

/** Who is calling the management API. */
export interface Principal {
  type: "key" | "user";
  /** key_… or usr_… */
  id: string;
  orgId: string;
  /** Admin scopes the principal holds ("*" for all). */
  scopes: string[];
  /** Console users' role; absent for keys. */
  role?: string;
  /** Workspaces a developer is limited to; null for everyone else. */
  workspaceIds?: string[] | null;
}

export interface RouteContext<B = unknown, Q = unknown, P = unknown> {
  principal: Principal;
  actor: Actor;
  body: B;
  query: Q;
  params: P;
  services: AdminServices;
  requestId: string;
  ip: string;
  /** The raw request body, for routes that verify a signature over it. */
  rawBody?: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export interface RouteResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The answer is a failed authentication: counted against an anonymous caller's address. */
  authFailed?: boolean;
  /** Send `body` as-is (a string or Buffer) with this content type instead of JSON. */
  contentType?: string;
}

export type ZodAny = z.ZodType;

/**
 * One management API operation. The same zod schemas validate requests and describe them in
 * the OpenAPI document. Who may call it is not here but in the one policy (policy.ts), keyed by
 * method and path.
 */
export interface RouteDef {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  path: string;
  summary: string;
  tag: string;
  body?: ZodAny;
  query?: ZodAny;
  response?: ZodAny;
  /** Keep the raw body bytes (for signature checks). */
  rawBody?: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handler: (ctx: RouteContext<any, any, any>) => Promise<RouteResult>;
}

export function defineRoute<B extends ZodAny | undefined, Q extends ZodAny | undefined>(
  def: Omit<RouteDef, "handler" | "body" | "query"> & {
    body?: B;
    query?: Q;
    handler: (ctx: RouteContext<B extends ZodAny ? z.infer<B> : undefined, Q extends ZodAny ? z.infer<Q> : undefined, Record<string, string>>) => Promise<RouteResult>;
  },
): RouteDef {
  return def as RouteDef;
}
