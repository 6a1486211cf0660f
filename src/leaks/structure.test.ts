/** Private keys made by the real tools (gpg, ssh-keygen) are recognised and verified offline. */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fake } from "../../test/fixtures/leaks/fake-keys.js";
import { pgpArmorChecksum } from "./checksums.js";
import { scanText } from "./scanner.js";
import { isBedrockLongTermKey, isBedrockShortTermKey } from "./structure.js";

const dir = mkdtempSync(join(tmpdir(), "latchkey-keys-"));
afterAll(() => {
  // gpg starts an agent for its home folder; it is stopped with that folder.
  spawnSync("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: join(dir, "gnupg") } });
  rmSync(dir, { recursive: true, force: true });
});

/** Whether a tool is installed; where tests must run in full (CI), its absence fails the suite. */
function has(tool: string): boolean {
  // Found on the PATH, whatever its answer: ssh-keygen has no --version and exits non-zero on it.
  if ((spawnSync(tool, ["--version"]).error as NodeJS.ErrnoException | undefined)?.code !== "ENOENT") return true;
  if (process.env.LATCHKEY_TEST_SERVICES === "required") throw new Error(`${tool} is required (LATCHKEY_TEST_SERVICES=required) but not installed`);
  console.warn(`\n*** ${tool} is not installed: its real-key test checks nothing here. ***\n`);
  return false;
}

describe("real private keys", () => {
  it("a gpg-exported private key block: found, its armor checksum verified; a changed checksum is only low confidence", () => {
    if (!has("gpg")) return;
    const home = join(dir, "gnupg");
    execFileSync("mkdir", ["-m", "700", home]);
    const env = { ...process.env, GNUPGHOME: home };
    execFileSync("gpg", ["--batch", "--passphrase", "", "--quick-gen-key", "Test <test@example.test>", "ed25519", "default", "never"], { env, stdio: "ignore" });
    const armored = execFileSync("gpg", ["--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--export-secret-keys"], { env, encoding: "utf8" });
    const sumLine = /^=[A-Za-z0-9+/]{4}$/m.exec(armored);
    if (sumLine) expect(pgpArmorChecksum(armored)).toBe(true);
    expect(scanText(armored, "key.asc").map((f) => `${f.ruleId}/${f.confidence}`)).toEqual(["pgp-private-key/high"]);
    if (sumLine) {
      const other = sumLine[0] === "=AAAA" ? "=BBBB" : "=AAAA";
      expect(scanText(armored.replace(sumLine[0], other), "key.asc").map((f) => f.ruleId)).toEqual(["pgp-private-key-unverified"]);
    }
  });

  it("an ssh-keygen OpenSSH key: found and its format verified", () => {
    if (!has("ssh-keygen")) return;
    const file = join(dir, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
    const key = readFileSync(file, "utf8");
    expect(scanText(key, "id_ed25519").map((f) => `${f.ruleId}/${f.confidence}`)).toEqual(["ssh-private-key/high"]);
    // The same key JSON-escaped in a config file is the same finding.
    expect(scanText(JSON.stringify({ deploy_key: key }), "c.json").map((f) => f.ruleId)).toEqual(["ssh-private-key"]);
  });
});

describe("Bedrock API key structure", () => {
  it("accepts what the vendor's format decodes to, and nothing else", () => {
    expect(isBedrockLongTermKey(fake.bedrock())).toBe(true);
    expect(isBedrockLongTermKey(`ABSK${Buffer.from("BedrockAPIKey-no-secret-here").toString("base64")}`)).toBe(false);
    expect(isBedrockShortTermKey(fake.bedrockShortTerm())).toBe(true);
    expect(isBedrockShortTermKey(`bedrock-api-key-${Buffer.from("bedrock.amazonaws.com/?Action=CallWithBearerToken").toString("base64")}`)).toBe(false);
  });
});
