/**
 * Debian's Chromium driven by playwright-core. When /usr/bin/chromium is absent the browser suites
 * skip with a loud warning; with LATCHKEY_TEST_SERVICES=required (CI) they fail instead.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { SERVICES_REQUIRED } from "./services.js";

export const CHROMIUM = process.env.LATCHKEY_CHROMIUM ?? "/usr/bin/chromium";
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (SERVICES_REQUIRED) throw new Error(`Chromium is required (LATCHKEY_TEST_SERVICES=required) but ${CHROMIUM} does not exist; apt-get install chromium`);
  console.warn(`\n*** SKIPPING browser tests: ${CHROMIUM} does not exist (apt-get install chromium). Set LATCHKEY_TEST_SERVICES=required to make this a failure. ***\n`);
  return false;
}

/** Builds the console once when its dist is missing, so the server has something to serve. */
export function ensureConsoleBuilt(): void {
  if (existsSync(join(ROOT, "console", "dist", "index.html"))) return;
  execFileSync("npx", ["vite", "build", "--config", "console/vite.config.ts", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Where the browser suite writes page screenshots: test-artifacts/screenshots (ignored by git) on
 * an ordinary run, so `npm test` leaves the work tree clean; docs/screenshots, the pictures the
 * README links, with `npm run screenshots`.
 */
export const SCREENSHOTS = process.env.LATCHKEY_UPDATE_SCREENSHOTS === "1"
  ? join(ROOT, "docs", "screenshots")
  : join(ROOT, "test-artifacts", "screenshots");
