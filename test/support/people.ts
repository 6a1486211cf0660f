import type { TestApp } from "./app.js";

export const PASSWORD = "correct horse battery";

export interface Reply { status: number; body: any; headers: Headers }
/** Calls the management API as one principal. */
export type Caller = (method: string, path: string, body?: unknown) => Promise<Reply>;

async function raw(url: string, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Reply> {
  const res = await fetch(`${url}${path}`, {
    method, headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A console session as the browser sends it: cookie, same Origin, CSRF header on changes. */
function sessionCaller(url: string, setCookie: string | null, csrf: string): Caller {
  const cookie = (setCookie ?? "").split(";")[0]!;
  return (method, path, body) => raw(url, method, path, body, { cookie, origin: url, ...(method === "GET" ? {} : { "x-csrf-token": csrf }) });
}

export function keyCaller(t: TestApp, key: string): Caller {
  return (method, path, body) => raw(t.url, method, path, body, { authorization: `Bearer ${key}` });
}

export function anonymous(t: TestApp): Caller {
  return (method, path, body) => raw(t.url, method, path, body, {});
}

/** Creates the first owner through the setup link and answers their session. */
export async function signUpOwner(t: TestApp, email = "owner@example.com"): Promise<Caller> {
  const token = new URL(t.app.bootstrap!.setupUrl!, t.url).searchParams.get("token")!;
  const r = await raw(t.url, "POST", "/api/v1/setup", { token, email, password: PASSWORD }, { origin: t.url });
  if (r.status !== 201) throw new Error(`setup failed: ${r.status} ${JSON.stringify(r.body)}`);
  return sessionCaller(t.url, r.headers.get("set-cookie"), r.body.csrf_token);
}

/** Invites someone as `by` and accepts for them; answers the new user's session and id. */
export async function invite(t: TestApp, by: Caller, email: string, role: string, workspaceIds?: string[]): Promise<{ call: Caller; id: string }> {
  const inv = await by("POST", "/api/v1/users/invitations", { email, role, ...(workspaceIds ? { workspace_ids: workspaceIds } : {}) });
  if (inv.status !== 201) throw new Error(`invitation failed: ${inv.status} ${JSON.stringify(inv.body)}`);
  const acc = await raw(t.url, "POST", "/api/v1/invitations/accept", { token: inv.body.token, password: PASSWORD }, { origin: t.url });
  if (acc.status !== 201) throw new Error(`accept failed: ${acc.status} ${JSON.stringify(acc.body)}`);
  return { call: sessionCaller(t.url, acc.headers.get("set-cookie"), acc.body.csrf_token), id: acc.body.user.id };
}

/** Signs an existing user in again: a fresh session. */
export async function signIn(t: TestApp, email: string): Promise<Caller> {
  const r = await raw(t.url, "POST", "/api/v1/session", { email, password: PASSWORD }, { origin: t.url });
  if (r.status !== 200) throw new Error(`sign-in failed: ${r.status} ${JSON.stringify(r.body)}`);
  return sessionCaller(t.url, r.headers.get("set-cookie"), r.body.csrf_token);
}
