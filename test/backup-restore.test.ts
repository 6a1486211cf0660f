/**
 * Backups of a running SQLite server: `latchkey backup` while traffic flows captures every key and
 * every usage record committed before it began (a plain copy of a WAL database does not), and the
 * restored server opens its credentials. Without the master key, neither `restore` nor start-up
 * goes on: no new key is generated beside credentials it could never open.
 */
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createSimulatorServer } from "../src/providers/index.js";
import { readUntil } from "./support/gateway-harness.js";
import { adminApi, latchkeyCli, latchkeyCliAsync, sendMessage, UpNodes } from "./support/nodes.js";

const cli = (args: string[], env: Record<string, string> = {}) => latchkeyCli(args, env, 30_000);
const SECRET = "sk-ant-BACKUP-CREDENTIAL-SECRET-0001";

describe("backup and restore", () => {
  const nodes = new UpNodes();
  afterAll(() => nodes.close());
  const dir = (name: string) => nodes.dir(name);

  it("backs up a busy server with every key and usage record, and restores it only with its master key", async () => {
    const sim = await createSimulatorServer();
    nodes.onClose(() => sim.close());
    const data = dir("busy");
    const up = await nodes.start(data);
    const api = adminApi(up.url, up.admin!);
    const cred = await api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: SECRET, base_url: sim.url });
    expect(cred.status).toBe(201);
    const keys: { id: string; key: string }[] = [];
    for (let i = 0; i < 11; i++) keys.push((await api("POST", "/api/v1/keys", { name: `k${i}`, kind: "live" })).body);
    const send = (k: string) => sendMessage(up.url, k, "hello");
    for (const k of keys) expect(await send(k.key)).toBe(200);

    // Traffic keeps flowing (requests and new keys) while the backup is taken.
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      for (let i = 0; i < 200 && !stop; i++) statuses.push(await send(keys[i % keys.length]!.key));
    })();
    const churn = (async () => {
      for (let i = 0; i < 40 && !stop; i++) await api("POST", "/api/v1/keys", { name: `during${i}`, kind: "test" });
    })();
    // What the database holds before the backup: at least the first eleven requests' usage, which
    // the recorder writes within about 100 ms (read again until it is there: a loaded machine is slower).
    const live = new BetterSqlite3(join(data, "latchkey.db"), { readonly: true });
    const read = () => ({
      keys: (live.prepare("select id from api_keys").all() as { id: string }[]).map((r) => r.id),
      usage: (live.prepare("select id from usage_events").all() as { id: string }[]).map((r) => r.id),
    });
    const before = await readUntil(async () => read(), (b) => b.usage.length >= 11);
    live.close();
    expect(before.usage.length).toBeGreaterThanOrEqual(11);
    const file = join(dir("backups"), "latchkey-backup.db");
    // Run without blocking this process, so the traffic above really flows while the backup is taken.
    const b = await latchkeyCliAsync(["backup", file, "--data-dir", data], {}, 30_000);
    stop = true;
    await Promise.all([traffic, churn]);
    expect(b.stderr).toBe("");
    expect(b.status).toBe(0);
    expect(b.stdout).toMatch(/master key fingerprint [0-9a-f]{16}/);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(b.stdout).not.toContain(SECRET);

    const copy = new BetterSqlite3(file, { readonly: true });
    const inCopy = {
      keys: new Set((copy.prepare("select id from api_keys").all() as { id: string }[]).map((r) => r.id)),
      usage: new Set((copy.prepare("select id from usage_events").all() as { id: string }[]).map((r) => r.id)),
    };
    expect(copy.pragma("integrity_check", { simple: true })).toBe("ok");
    copy.close();
    for (const id of before.keys) expect(inCopy.keys.has(id)).toBe(true);
    for (const id of before.usage) expect(inCopy.usage.has(id)).toBe(true);
    // The master key itself is never in the backup.
    const masterHex = readFileSync(join(data, "master.key"), "utf8").trim();
    expect(readFileSync(file).includes(Buffer.from(masterHex))).toBe(false);

    // Restore without the master key: refused, naming the key it needs.
    const bare = dir("bare");
    const refused = cli(["restore", file, "--data-dir", bare]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/master key [0-9a-f]{16}.*none here/);
    expect(existsSync(join(bare, "latchkey.db"))).toBe(false);
    // With another master key: refused too.
    const wrong = cli(["restore", file, "--data-dir", bare], { LATCHKEY_MASTER_KEY: "ab".repeat(32) });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/but the key here is/);

    // A database put in place by hand without its key: start-up refuses, names the problem, and creates no key.
    copyFileSync(file, join(bare, "latchkey.db"));
    const start = cli(["up", "--port", "0", "--data-dir", bare]);
    expect(start.status).not.toBe(0);
    expect(start.stderr).toMatch(/encrypted record.*no master key/);
    expect(start.stdout).not.toMatch(/running at/);
    expect(existsSync(join(bare, "master.key"))).toBe(false);
    const startWrong = cli(["up", "--port", "0", "--data-dir", bare], { LATCHKEY_MASTER_KEY: "ab".repeat(32) });
    expect(startWrong.status).not.toBe(0);
    expect(startWrong.stderr).toMatch(/does not open the stored provider credentials/);

    // Restoring over a database a server holds is refused.
    const held = cli(["restore", file, "--data-dir", data, "--force"]);
    expect(held.status).not.toBe(0);
    expect(held.stderr).toMatch(/open in another process/);

    // With the master key: restored, and the restored server serves every key through its credential.
    const target = dir("restored");
    copyFileSync(join(data, "master.key"), join(target, "master.key"));
    const ok = cli(["restore", file, "--data-dir", target]);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const again = await nodes.start(target);
    expect(again.admin).toBeNull(); // not a first run: the organization came back
    for (const k of keys) expect(await sendMessage(again.url, k.key, "after restore")).toBe(200);
    const restored = new BetterSqlite3(join(target, "latchkey.db"), { readonly: true });
    expect((restored.prepare("select count(*) as n from kv where key like 'backup.%'").get() as { n: number }).n).toBe(0);
    restored.close();
  }, 240_000);
});
