/**
 * The console's provider credentials page in Debian's Chromium: a cloud credential (Bedrock) added
 * with its own fields (region, API, models), proved by the Test button against the simulator
 * playing Bedrock (SigV4 recomputed), then changed in place (region, weight) without its secret
 * and proved again; a credential with a wrong secret tests as failed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { backends, type TestBackend } from "./support/backends.js";
import { startApp, type TestApp } from "./support/app.js";
import { chromiumAvailable, ensureConsoleBuilt, launchChromium } from "./support/browser.js";

const hasChromium = chromiumAvailable();
const AWS = { accessKeyId: "AKIACONSOLE000000001", secretAccessKey: "console/secret/key/000000000000000000000" };
const PASSWORD = "correct horse battery";

describe.skipIf(!hasChromium)("credentials page in Chromium", () => {
  let backend: TestBackend;
  let t: TestApp;
  let sim: SimulatorServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ensureConsoleBuilt();
    sim = await createSimulatorServer({ clouds: { aws: [AWS] } });
    backend = await (await backends())[0]!.create();
    t = await startApp(backend);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    await page.goto(`${t.url}${t.app.bootstrap!.setupUrl!}`);
    await page.getByLabel("Email").fill("owner@example.com");
    await page.getByLabel("Your name").fill("Olive Owner");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Repeat the password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create owner and sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await backend?.cleanup();
    await sim?.close();
  });

  const add = async (name: string, secretKey: string) => {
    await page.getByLabel("Provider").selectOption("bedrock");
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Secret").fill(JSON.stringify({ access_key_id: AWS.accessKeyId, secret_access_key: secretKey }));
    await page.getByLabel("AWS region").fill("us-east-1");
    await page.getByLabel("Bedrock API").selectOption("converse");
    await page.getByLabel("Models it serves (optional)").fill("claude-haiku-4-5=us.anthropic.claude-haiku-4-5-20251001-v1:0");
    await page.getByLabel("Base URL (optional)").fill(sim.url);
    await page.getByRole("button", { name: "Add credential" }).click();
    await page.getByRole("row", { name: new RegExp(name) }).waitFor();
  };

  it("adds a Bedrock credential with its fields, proves it with Test, and changes its region and weight without the secret", async () => {
    await page.goto(`${t.url}/console/credentials`);
    await page.getByRole("heading", { level: 1, name: "Provider credentials" }).waitFor();
    await add("bedrock-console", AWS.secretAccessKey);
    const row = page.getByRole("row", { name: /bedrock-console/ });
    await row.getByText("region us-east-1").waitFor();
    await row.getByText("api converse").waitFor();
    await row.getByText("claude-haiku-4-5=us.anthropic.claude-haiku-4-5-20251001-v1:0").waitFor();
    const stored = (await t.api("GET", "/api/v1/credentials")).body.data[0];
    expect(stored).toMatchObject({ provider: "bedrock", base_url: sim.url, settings: { region: "us-east-1", api: "converse" } });

    await row.getByRole("button", { name: "Test" }).click();
    await row.getByText("works").waitFor();

    await row.getByRole("button", { name: "Edit bedrock-console" }).click();
    const dialog = page.getByRole("dialog", { name: "Edit bedrock-console" });
    await dialog.getByLabel("AWS region").fill("us-west-2");
    await dialog.getByLabel("Weight").fill("3");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await dialog.waitFor({ state: "detached" });
    await row.getByText("region us-west-2").waitFor();
    await row.getByText("weight 3").waitFor();
    const after = (await t.api("GET", "/api/v1/credentials")).body.data[0];
    expect(after).toMatchObject({ id: stored.id, hint: stored.hint, weight: 3, settings: { region: "us-west-2", api: "converse" } });

    // Proved again after the change: signed for the new region with the secret kept.
    await row.getByRole("button", { name: "Test" }).click();
    await row.getByText("works").waitFor();
    const audit = (await t.api("GET", "/api/v1/audit?limit=10")).body.data as { action: string; changes: Record<string, unknown> }[];
    expect(audit.find((a) => a.action === "credential.updated")?.changes).toMatchObject({ settings: { region: "us-west-2" }, weight: 3 });
    expect(JSON.stringify(audit)).not.toContain(AWS.secretAccessKey);
  });

  it("shows a credential whose secret the provider refuses as failed", async () => {
    await add("bedrock-wrong", "not/the/secret/000000000000000000000000");
    const row = page.getByRole("row", { name: /bedrock-wrong/ });
    await row.getByRole("button", { name: "Test" }).click();
    await row.getByText(/^failed/).waitFor();
  });
});
