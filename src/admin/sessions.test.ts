import { describe, expect, it } from "vitest";
import { AppError } from "../errors/index.js";
import { checkCsrf, csrfTokenFor, readSessionToken, sessionCookie } from "./sessions.js";
import type { AdminServices } from "./services.js";

const services = (config: Record<string, unknown>) => ({ config: { trustProxy: { kind: "none" }, ...config } }) as unknown as AdminServices;

describe("session cookie and CSRF", () => {
  it("marks the cookie Secure only when the request came over TLS through a trusted proxy or the public URL is https", () => {
    const https = { "x-forwarded-proto": "https" };
    expect(sessionCookie(services({}), https, "t", 60)).not.toContain("Secure");
    expect(sessionCookie(services({ trustProxy: { kind: "hops", hops: 1 } }), https, "t", 60)).toBe("latchkey_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure");
    expect(sessionCookie(services({ trustProxy: { kind: "hops", hops: 1 } }), { "x-forwarded-proto": "http" }, "t", 60)).not.toContain("Secure");
    expect(sessionCookie(services({ publicUrl: "https://keys.example.com" }), {}, "t", 60)).toContain("; Secure");
  });

  it("reads the session token among other cookies", () => {
    expect(readSessionToken({ cookie: "a=1; latchkey_session=abc-_1; b=2" })).toBe("abc-_1");
    expect(readSessionToken({ cookie: "latchkey_session_x=1" })).toBeNull();
    expect(readSessionToken({})).toBeNull();
  });

  it("asks changes for the session's own token and a matching origin; reads need neither", () => {
    const s = services({});
    const token = "session-token";
    const ok = { "x-csrf-token": csrfTokenFor(token), host: "127.0.0.1:8420", origin: "http://127.0.0.1:8420" };
    expect(() => checkCsrf(s, { method: "POST", ip: "", headers: ok }, token)).not.toThrow();
    expect(() => checkCsrf(s, { method: "GET", ip: "", headers: {} }, token)).not.toThrow();
    expect(() => checkCsrf(s, { method: "DELETE", ip: "", headers: { ...ok, "x-csrf-token": csrfTokenFor("other") } }, token)).toThrow(AppError);
    expect(() => checkCsrf(s, { method: "PATCH", ip: "", headers: { ...ok, origin: "http://evil.example" } }, token)).toThrow(/not accepted/);
    expect(() => checkCsrf(services({ publicUrl: "https://keys.example.com" }), { method: "POST", ip: "", headers: { ...ok, host: "internal:8420", origin: "https://keys.example.com" } }, token)).not.toThrow();
  });
});
