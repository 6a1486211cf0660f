/**
 * The console in Debian's Chromium against a whole Latchkey: first owner, keys shown once,
 * roll and revoke, limits, credits, a usage chart filled by gateway traffic, a viewer the server
 * refuses, CSRF, sign out. Writes a screenshot of each page (see SCREENSHOTS in support/browser.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { backends, type TestBackend } from "./support/backends.js";
import { startApp, type TestApp } from "./support/app.js";
import { chromiumAvailable, ensureConsoleBuilt, launchChromium, SCREENSHOTS } from "./support/browser.js";

const hasChromium = chromiumAvailable();
const DESKTOP = { width: 1280, height: 800 };
const PASSWORD = "correct horse battery";

describe.skipIf(!hasChromium)("console in Chromium", () => {
  let backend: TestBackend;
  let t: TestApp;
  let browser: Browser;
  let ownerCtx: BrowserContext;
  let page: Page;
  let plaintext = "";
  let rolled = "";

  const shot = (p: Page, name: string) => p.screenshot({ path: `${SCREENSHOTS}/${name}.png` });
  const go = async (p: Page, path: string, heading: string) => {
    await p.goto(`${t.url}/console/${path}`);
    await p.getByRole("heading", { level: 1, name: heading }).waitFor();
  };
  /** A request made by the page itself, with its cookie (fetch from the console's origin). */
  const inPage = (p: Page, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    p.evaluate(async ([m, u, b, h]) => {
      const r = await fetch(u as string, { method: m as string, credentials: "same-origin", headers: { "content-type": "application/json", ...(h as Record<string, string>) }, body: b === undefined ? undefined : JSON.stringify(b) });
      return { status: r.status, body: await r.json().catch(() => null) };
    }, [method, path, body, headers] as const);

  beforeAll(async () => {
    ensureConsoleBuilt();
    backend = await (await backends())[0]!.create();
    t = await startApp(backend);
    browser = await launchChromium();
    ownerCtx = await browser.newContext({ viewport: DESKTOP });
    await ownerCtx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: t.url });
    page = await ownerCtx.newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await backend?.cleanup();
  });

  it("serves the console under a strict CSP with no inline script", async () => {
    const res = await fetch(`${t.url}/console/`);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const errors: string[] = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(`${t.url}/console/`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByText("No one has set up this console yet").waitFor();
    await shot(page, "sign-in");
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });

  it("creates the first owner with the one-time link", async () => {
    await page.goto(`${t.url}${t.app.bootstrap!.setupUrl!}`);
    await page.getByRole("heading", { name: "Create the first owner" }).waitFor();
    await page.getByLabel("Email").fill("owner@example.com");
    await page.getByLabel("Your name").fill("Olive Owner");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Repeat the password").fill(PASSWORD);
    await shot(page, "setup");
    await page.getByRole("button", { name: "Create owner and sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    const cookies = await ownerCtx.cookies();
    const session = cookies.find((c) => c.name === "latchkey_session")!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict" });
  });

  it("creates a key and shows its plaintext once, with a copy button", async () => {
    await go(page, "keys", "API keys");
    await page.getByText("No API keys yet").or(page.locator("table")).first().waitFor();
    await page.getByRole("button", { name: "Create key" }).click();
    const dialog = page.getByRole("dialog", { name: "Create an API key" });
    await dialog.getByLabel("Name").fill("browser test key");
    await dialog.getByLabel("Kind").selectOption("test");
    await dialog.getByLabel("Allowed models").fill("claude-*");
    await dialog.getByLabel("Requests / minute").fill("600");
    await dialog.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByRole("dialog", { name: /created/ });
    await shown.getByText("It is shown only once").waitFor();
    plaintext = await shown.getByLabel("The new key").inputValue();
    expect(plaintext).toMatch(/^lk_test_[0-9A-Za-z]{36}$/);
    await page.screenshot({ path: `${SCREENSHOTS}/key-created.png`, mask: [shown.getByLabel("The new key")] }); // a real key never goes into the repository
    await shown.getByRole("button", { name: "Copy" }).click();
    await shown.getByRole("button", { name: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(plaintext);
    await shown.getByRole("button", { name: "I have stored it safely" }).click();
    await shown.waitFor({ state: "detached" });
    const row = page.getByRole("row").filter({ hasText: "browser test key" });
    await row.waitFor();
    expect(await page.content()).not.toContain(plaintext);
    expect(await page.evaluate(() => document.body.innerText + Array.from(document.querySelectorAll("input"), (i) => i.value).join(" "))).not.toContain(plaintext);
    const listed = (await t.api("GET", "/api/v1/keys?search=browser")).body.data;
    expect(listed[0]).toMatchObject({ name: "browser test key", kind: "test", allowed_models: ["claude-*"], rate_limits: { requests_per_minute: 600 } });
  });

  it("fills the usage chart after requests through the gateway", async () => {
    let ok = 0;
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${t.url}/v1/messages`, {
        method: "POST", headers: { "x-api-key": plaintext, "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 50, messages: [{ role: "user", content: `Hello ${i}` }] }),
      });
      await r.arrayBuffer();
      if (r.status === 200) ok++;
    }
    expect(ok).toBe(3);
    const today = new Date().toISOString().slice(0, 10);
    let requests = 0;
    for (let i = 0; i < 40 && requests < 3; i++) {
      await new Promise((r) => setTimeout(r, 250));
      await t.app.services.usageRollups.runOnce();
      // The key is a test key: its usage is reported apart from live usage, never mixed into it.
      const live = (await t.api("GET", `/api/v1/usage?starting_at=${today}T00:00:00Z&bucket_width=1d`)).body;
      expect((live.data ?? []).flatMap((b: any) => b.results).reduce((n: number, r: any) => n + r.requests, 0)).toBe(0);
      const rep = (await t.api("GET", `/api/v1/usage?starting_at=${today}T00:00:00Z&bucket_width=1d&test_usage=only`)).body;
      requests = (rep.data ?? []).flatMap((b: any) => b.results).reduce((n: number, r: any) => n + r.requests, 0);
    }
    expect(requests).toBe(3);
    await go(page, "usage", "Usage");
    await page.getByText("No usage in this range").waitFor();
    await page.getByLabel("Keys").selectOption("test");
    const chart = page.getByTestId("spend-chart");
    await chart.waitFor();
    await page.getByTestId("tokens-chart").locator(".recharts-bar-rectangle").first().waitFor();
    expect(await chart.locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
    await page.getByRole("cell", { name: "claude-sonnet-4-6" }).first().waitFor();
    await shot(page, "usage");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    const csv = await (await download).createReadStream().then(async (s) => { let out = ""; for await (const c of s) out += c; return out; });
    expect(csv.split("\n")[0]).toContain("starting_at,ending_at,model,requests");
    expect(csv).toContain("claude-sonnet-4-6,3,0");
  });

  it("rolls the key with a grace period and revokes the new one after confirmation", async () => {
    await go(page, "keys", "API keys");
    const row = page.getByRole("row").filter({ hasText: plaintext.slice(0, 12) });
    await row.getByRole("button", { name: "Roll" }).click();
    const dialog = page.getByRole("dialog", { name: /^Roll/ });
    await dialog.getByLabel("Grace period").selectOption("3600");
    await dialog.getByRole("button", { name: "Roll key" }).click();
    const shown = page.getByRole("dialog", { name: /rolled/ });
    rolled = await shown.getByLabel("The new key").inputValue();
    expect(rolled).toMatch(/^lk_test_/);
    expect(rolled).not.toBe(plaintext);
    await shown.getByRole("button", { name: "I have stored it safely" }).click();
    const hint = `${rolled.slice(0, 12)}…${rolled.slice(-4)}`;
    const newRow = page.getByRole("row").filter({ hasText: hint });
    await newRow.getByRole("button", { name: "Revoke" }).click();
    const confirm = page.getByRole("dialog", { name: /^Revoke/ });
    await confirm.getByText("This cannot be undone").waitFor();
    await confirm.getByRole("button", { name: "Revoke key" }).click();
    await newRow.getByText("revoked").waitFor();
    await shot(page, "keys");
    expect(await page.content()).not.toContain(rolled);
    const v = await t.api("POST", "/api/v1/keys/verify", { key: rolled });
    expect(v.body).toMatchObject({ valid: false });
    const old = await t.api("POST", "/api/v1/keys/verify", { key: plaintext });
    expect(old.body.valid).toBe(true); // still inside its grace period
  });

  it("sets an organization spend limit and adds credits", async () => {
    await go(page, "billing", "Billing");
    await page.getByLabel("Spend limit (USD)").fill("250");
    await page.getByLabel("Period").first().selectOption("month");
    await page.getByRole("button", { name: "Save limits" }).click();
    await page.getByText("Limits saved.").waitFor();
    expect((await t.api("GET", "/api/v1/organization")).body.spend_limit).toMatchObject({ amount_nano_usd: 250_000_000_000, period: "month" });
    await page.getByLabel("Thresholds (%)").fill("90, 25");
    await page.getByRole("button", { name: "Save thresholds" }).click();
    await page.getByText("these percentages of a limit: 25%, 90%").waitFor();
    expect((await t.api("GET", "/api/v1/organization")).body.settings.alert_thresholds).toEqual([25, 90]);
    await page.getByLabel("Add credits (USD)").fill("100");
    await page.getByLabel("Note").fill("first top-up");
    await page.getByRole("button", { name: "Add credits" }).click();
    await page.getByRole("cell", { name: "first top-up" }).waitFor();
    expect(await page.getByTestId("credit-balance").innerText()).toBe("$100.00");
    expect((await t.api("GET", "/api/v1/credits")).body.balance_usd).toMatch(/^100(\.0+)?$/);
    await shot(page, "billing");
  });

  it("edits a credential without dropping what its model entries carry beyond the text (priority, weight, prices)", async () => {
    const made = await t.api("POST", "/api/v1/credentials", {
      provider: "anthropic", name: "priced deployment", secret: "sk-ant-api03-console-edit-test-0000000000",
      models: [{ model: "claude-sonnet-4-6", priority: 2, weight: 3, prices: { input_usd: "2.5", output_usd: "12" } }, "claude-haiku-*"],
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    await go(page, "credentials", "Provider credentials");
    await page.getByRole("button", { name: "Edit priced deployment" }).click();
    const dialog = page.getByRole("dialog", { name: "Edit priced deployment" });
    await dialog.getByLabel("Name").fill("priced deployment, edited");
    const models = dialog.getByLabel("Models it serves");
    expect(await models.inputValue()).toBe("claude-sonnet-4-6, claude-haiku-*");
    await models.fill("claude-sonnet-4-6, claude-haiku-*, claude-opus-4-1");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await dialog.waitFor({ state: "detached" });
    const listed = (await t.api("GET", "/api/v1/credentials")).body.data as Array<{ id: string; name: string; models: unknown[] }>;
    const saved = listed.find((c) => c.id === made.body.id)!;
    expect(saved.name).toBe("priced deployment, edited");
    expect(saved.models).toMatchObject([
      { model: "claude-sonnet-4-6", upstream: null, priority: 2, weight: 3, prices: { input_usd: "2.5", output_usd: "12" } },
      { model: "claude-haiku-*", priority: null, weight: null, prices: null },
      { model: "claude-opus-4-1", priority: null, weight: null, prices: null },
    ]);
    expect(await t.api("DELETE", `/api/v1/credentials/${made.body.id}`)).toMatchObject({ status: 200 });
  });

  it("refuses a session change without the CSRF token", async () => {
    const forged = await inPage(page, "POST", "/api/v1/workspaces", { name: "forged" });
    expect(forged.status).toBe(403);
    expect(forged.body.error.message).toMatch(/csrf/i);
    const session = await inPage(page, "GET", "/api/v1/session");
    const ok = await inPage(page, "POST", "/api/v1/workspaces", { name: "Search team" }, { "x-csrf-token": session.body.csrf_token });
    expect(ok.status).toBe(201);
  });

  it("changes which workspaces a developer may use from the People page", async () => {
    const inv = await t.api("POST", "/api/v1/users/invitations", { email: "dev@example.com", role: "developer", workspace_ids: [] });
    const token = new URL(inv.body.url, t.url).searchParams.get("token");
    const accepted = await fetch(`${t.url}/api/v1/invitations/accept`, { method: "POST", headers: { "content-type": "application/json", origin: t.url }, body: JSON.stringify({ token, password: "a long enough password 1" }) });
    expect(accepted.status).toBe(201);
    await go(page, "people", "People");
    await page.getByRole("row", { name: /dev@example\.com/ }).getByRole("button", { name: "Change" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Search team").check();
    await dialog.getByRole("button", { name: "Save workspaces" }).click();
    await page.getByRole("row", { name: /dev@example\.com/ }).getByText("Search team").waitFor();
    const users = (await t.api("GET", "/api/v1/users")).body.data as { email: string; workspace_ids: string[] }[];
    const workspaces = (await t.api("GET", "/api/v1/workspaces")).body.data as { id: string; name: string }[];
    expect(users.find((u) => u.email === "dev@example.com")!.workspace_ids).toEqual([workspaces.find((w) => w.name === "Search team")!.id]);
  });

  it("shows a developer only the sections and buttons the role may use", async () => {
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const d = await ctx.newPage();
    await d.goto(`${t.url}/console/`);
    await d.getByLabel("Email").fill("dev@example.com");
    await d.getByLabel("Password").fill("a long enough password 1");
    await d.getByRole("button", { name: "Sign in" }).click();
    await d.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    const nav = d.getByRole("navigation", { name: "Sections" });
    await nav.getByRole("link", { name: "API keys" }).waitFor();
    for (const hidden of ["Provider credentials", "Alerts", "Audit log", "People"]) {
      expect(await nav.getByRole("link", { name: hidden }).count(), hidden).toBe(0);
    }
    await go(d, "workspaces", "Workspaces");
    await d.getByRole("row").filter({ hasText: "Search team" }).first().waitFor();
    expect(await d.getByRole("button", { name: /Create workspace|Edit|Archive/ }).count()).toBe(0);
    await go(d, "models", "Models and prices");
    await d.getByRole("cell", { name: "claude-sonnet-4-6" }).first().waitFor();
    expect(await d.getByRole("button", { name: "Edit prices" }).count()).toBe(0);
    await go(d, "billing", "Billing");
    expect(await d.getByRole("button", { name: /Save limits|Add credits|Add webhook/ }).count()).toBe(0);
    await go(d, "keys", "API keys");
    await d.getByRole("button", { name: "Create key" }).waitFor();
    const session = await inPage(d, "GET", "/api/v1/session");
    expect(session.body.role).toBe("developer");
    const forged = await inPage(d, "POST", "/api/v1/credentials", { provider: "openai", name: "mine", secret: "sk-not-real-000000000000" }, { "x-csrf-token": session.body.csrf_token });
    expect(forged.status).toBe(403);
    await ctx.close();
  });

  it("writes a screenshot of every page, at desktop and phone width", async () => {
    for (const [path, heading] of [["overview", "Overview"], ["workspaces", "Workspaces"], ["credentials", "Provider credentials"], ["models", "Models and prices"], ["alerts", "Alerts"], ["audit", "Audit log"], ["people", "People"]] as const) {
      await go(page, path, heading);
      await page.waitForLoadState("networkidle");
      expect(await page.getByText("The console is not built").count()).toBe(0);
      if (path === "models") await page.getByRole("cell", { name: "claude-sonnet-4-6" }).first().waitFor();
      await shot(page, path);
    }
    await page.getByText("chain intact").or(page.getByRole("heading", { name: "People" })).first().waitFor();
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await ownerCtx.storageState() });
    const p = await phone.newPage();
    await go(p, "overview", "Overview");
    await p.getByRole("button", { name: /Menu/ }).waitFor();
    await p.waitForLoadState("networkidle");
    await shot(p, "overview-phone");
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.close();
  });

  it("shows a viewer nothing to change, and the server refuses a forged change", async () => {
    const inv = await t.api("POST", "/api/v1/users/invitations", { email: "viewer@example.com", role: "viewer" });
    expect(inv.status).toBe(201);
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const v = await ctx.newPage();
    await v.goto(`${t.url}${inv.body.url}`);
    await v.getByText("You are invited as viewer").waitFor();
    await v.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await v.getByLabel("Repeat the password").fill(PASSWORD);
    await v.getByRole("button", { name: "Join and sign in" }).click();
    await v.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await go(v, "keys", "API keys");
    await v.getByRole("row").filter({ hasText: "browser test key" }).first().waitFor();
    expect(await v.getByRole("button", { name: /Create key|Roll|Revoke|Disable|Edit/ }).count()).toBe(0);
    await shot(v, "keys-viewer");
    await go(v, "billing", "Billing");
    expect(await v.getByRole("button", { name: /Save limits|Add credits|Add webhook/ }).count()).toBe(0);
    const session = await inPage(v, "GET", "/api/v1/session");
    expect(session.body.role).toBe("viewer");
    const forged = await inPage(v, "POST", "/api/v1/keys", { name: "sneaky" }, { "x-csrf-token": session.body.csrf_token });
    expect(forged.status).toBe(403);
    const forgedLimit = await inPage(v, "PATCH", "/api/v1/organization", { spend_limit: null }, { "x-csrf-token": session.body.csrf_token });
    expect(forgedLimit.status).toBe(403);
    expect((await t.api("GET", "/api/v1/organization")).body.spend_limit).not.toBeNull();
    await ctx.close();
  });

  it("signs out, and signs back in with the form", async () => {
    await go(page, "overview", "Overview");
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect((await inPage(page, "GET", "/api/v1/session")).status).toBe(401);
    await page.getByLabel("Email").fill("owner@example.com");
    await page.getByLabel("Password").fill("wrong password!");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The email or password is not right").waitFor();
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    expect((await inPage(page, "GET", "/api/v1/session")).body.user.email).toBe("owner@example.com");
  });
});
