import { describe, expect, it } from "vitest";
import { matchRoute } from "./routes.js";

describe("gateway route matching", () => {
  it("answers 405 only for a path that exists with another method", () => {
    expect(matchRoute("GET", "/v1/messages", true)).toBe("method");
    expect(matchRoute("POST", "/v1beta/models", false)).toBe("method");
    expect(matchRoute("POST", "/v1beta/models/gemini-2.5-flash", false)).toBe("method");
    expect(matchRoute("GET", "/v1beta/models/gemini-2.5-flash:generateContent", false)).toBe("method");
    expect(matchRoute("DELETE", "/v1/models/gpt-4o", false)).toBe("method");
  });

  it("answers 404 for unmatched model paths, whatever the method", () => {
    for (const [method, path] of [
      ["POST", "/v1beta/models/gemini-2.5-flash:noSuchMethod"],
      ["POST", "/v1beta/models/gemini-2.5-flash:toString"],
      ["POST", "/v1beta/models/gemini-2.5-flash:constructor"],
      ["GET", "/v1beta/models/gemini-2.5-flash:noSuchMethod"],
      ["POST", "/v1beta/models/a/b"],
      ["POST", "/v1beta/modelsX"],
      ["GET", "/v1beta/modelsX"],
    ] as const) {
      expect(matchRoute(method, path, false), `${method} ${path}`).toBeNull();
    }
  });
});
