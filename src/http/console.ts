import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import type { FastifyInstance } from "fastify";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json", ".woff2": "font/woff2", ".map": "application/json",
};

/** Strict: the console loads only its own scripts and styles and talks only to this origin. */
export const CONSOLE_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
  "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
].join("; ");

/**
 * Serves the built console at /console: hashed assets cached for a year, index.html never cached
 * (so a new build is picked up at once), unknown paths fall back to index.html for the SPA router.
 */
export async function registerConsole(app: FastifyInstance, dir: string | undefined): Promise<void> {
  app.get("/", async (_req, reply) => reply.redirect("/console/"));
  app.get("/console", async (_req, reply) => reply.redirect("/console/"));
  app.get("/console/*", async (req, reply) => {
    reply.header("content-security-policy", CONSOLE_CSP).header("x-content-type-options", "nosniff").header("referrer-policy", "no-referrer").header("x-frame-options", "DENY");
    if (!dir) return reply.code(404).type("text/plain").send("The console is not built. Run `npm run build:console`.");
    const rel = (req.params as { "*": string })["*"] || "index.html";
    const path = normalize(join(dir, rel));
    if (!path.startsWith(normalize(dir) + sep) && path !== normalize(dir)) return reply.code(404).send();
    const file = (await isFile(path)) ? path : join(dir, "index.html");
    if (!(await isFile(file))) return reply.code(404).type("text/plain").send("The console is not built. Run `npm run build:console`.");
    const immutable = file.includes(`${sep}assets${sep}`);
    reply.header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
    return reply.type(TYPES[extname(file)] ?? "application/octet-stream").send(await readFile(file));
  });
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
