/** The one way the console talks to the server: the management API, same origin, with the session's CSRF token on changes. */

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly fields?: Array<{ field: string; message: string }>) {
    super(message);
  }
  /** The server does not have this endpoint (an older build, or a part not installed). */
  get notAvailable(): boolean {
    return this.status === 404 && /^no route for/i.test(this.message);
  }
}

const FRIENDLY: Record<number, string> = {
  401: "You are signed out. Sign in again to continue.",
  403: "Your role does not allow this.",
  429: "Too many attempts. Wait a minute and try again.",
  500: "The server ran into a problem. Try again; if it persists, check the server log.",
  503: "The server cannot reach its database right now. Try again shortly.",
};

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the Latchkey server. Check that it is running.");
  }
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; fields?: Array<{ field: string; message: string }> } } | undefined)?.error;
    const message = err?.message ? sentence(err.message, err.fields) : (FRIENDLY[res.status] ?? `The request failed (${res.status}).`);
    throw new ApiError(res.status, err?.code ?? "error", message, err?.fields);
  }
  return data as T;
}

function sentence(message: string, fields?: Array<{ field: string; message: string }>): string {
  const m = message.charAt(0).toUpperCase() + message.slice(1);
  const detail = fields?.length ? ` (${fields.map((f) => `${f.field}: ${f.message}`).join("; ")})` : "";
  return `${m}${detail}`;
}

export const get = <T>(path: string) => api<T>("GET", path);
export const post = <T>(path: string, body: unknown = {}) => api<T>("POST", path, body);
export const patch = <T>(path: string, body: unknown) => api<T>("PATCH", path, body);
export const del = <T>(path: string) => api<T>("DELETE", path);

export function qs(params: Record<string, string | number | undefined | null | string[]>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) for (const x of v) u.append(`${k}[]`, x);
    else u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : "";
}

export interface ListPage<T> { data: T[]; has_more: boolean; last_id?: string | null }
