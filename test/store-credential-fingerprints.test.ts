/** Leak fingerprints of provider credentials in the store, on every backend (SQLite and PostgreSQL). */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprintKey, fingerprintOfDigest, leakDigest, newId, sha256Hex } from "../src/lib/index.js";
import { createStore, migrate, openDatabase, rotateMasterKey, type Database, type Store } from "../src/store/index.js";
import { backends, type TestBackend } from "./support/backends.js";
import { fake, serviceAccountJson } from "./fixtures/leaks/fake-keys.js";

const all = await backends();

for (const b of all) {
  describe.skipIf(!b.available)(`credential fingerprints on ${b.name}`, () => {
    let backend: TestBackend;
    let database: Database;
    let store: Store;
    const orgA = newId("org");
    const orgB = newId("org");
    let master = randomBytes(32);
    const fp = (secret: string, key = master) => fingerprintOfDigest(fingerprintKey(key), leakDigest(secret));
    const add = (orgId: string, secret: string, provider = "openai") => store.credentials.insert({
      id: newId("cred"), orgId, workspaceId: null, provider, name: "c", baseUrl: null, weight: 1, createdAt: Date.now(), createdBy: null, secret,
    }, master);

    beforeAll(async () => {
      backend = await b.create();
      database = openDatabase({ url: backend.url });
      await migrate(database);
      store = createStore(database);
      for (const id of [orgA, orgB]) {
        await store.orgs.insertOrganization({ id, name: id, rateLimits: null, spendLimit: null, settings: {}, createdAt: 1 });
      }
    });
    afterAll(async () => {
      await database?.close();
      await backend?.cleanup();
    });

    it("stores one keyed fingerprint per leakable part, never the secret or its plain digest", async () => {
      const sa = serviceAccountJson();
      const c = await add(orgA, sa.json, "gemini");
      const rows = await database.db.selectFrom("credential_fingerprints").selectAll().where("credential_id", "=", c.id).execute();
      expect(rows.map((r) => r.part).sort()).toEqual(["private_key", "private_key_id", "secret"]);
      const text = JSON.stringify(rows);
      for (const s of [sa.keyId, sha256Hex(sa.keyId), sa.json, sha256Hex(sa.json)]) expect(text).not.toContain(s);
      expect((await store.credentialFingerprints.find([fp(sa.keyId)], orgA)).map((m) => [m.credentialId, m.part])).toEqual([[c.id, "private_key_id"]]);
    });

    it("finds a credential only in its own organization, unless asked across all (a GitHub report)", async () => {
      const secret = fake.anthropic();
      const c = await add(orgA, secret, "anthropic");
      expect(await store.credentialFingerprints.find([fp(secret)], orgB)).toEqual([]);
      expect((await store.credentialFingerprints.find([fp(secret)], orgA))[0]).toMatchObject({ credentialId: c.id, orgId: orgA, provider: "anthropic", name: "c" });
      expect((await store.credentialFingerprints.find([fp(secret)], null)).map((m) => m.credentialId)).toEqual([c.id]);
      expect(await store.credentialFingerprints.find([fp(fake.anthropic())], null)).toEqual([]);
    });

    it("forgets a deleted credential's fingerprints", async () => {
      const secret = fake.groq();
      const c = await add(orgB, secret);
      await store.credentials.delete(c.id);
      expect(await store.credentialFingerprints.find([fp(secret)], null)).toEqual([]);
      expect(await database.db.selectFrom("credential_fingerprints").select("credential_id").where("credential_id", "=", c.id).execute()).toEqual([]);
    });

    it("backfills credentials stored before fingerprints existed, once, however many nodes start", async () => {
      const secret = fake.xai();
      const c = await add(orgB, secret);
      await database.db.deleteFrom("credential_fingerprints").where("credential_id", "=", c.id).execute();
      expect(await store.credentialFingerprints.find([fp(secret)], orgB)).toEqual([]);
      const [n1, n2] = await Promise.all([store.credentialFingerprints.backfill(master), store.credentialFingerprints.backfill(master)]);
      expect(n1 + n2).toBeGreaterThanOrEqual(1);
      expect((await store.credentialFingerprints.find([fp(secret)], orgB)).map((m) => m.credentialId)).toEqual([c.id]);
      expect(await store.credentialFingerprints.backfill(master)).toBe(0);
    });

    it("re-keys every fingerprint when the master key is rotated", async () => {
      const secret = fake.perplexity();
      await add(orgA, secret);
      const next = randomBytes(32);
      await rotateMasterKey(database, master, next);
      expect(await store.credentialFingerprints.find([fp(secret, master)], null)).toEqual([]);
      master = next;
      expect(await store.credentialFingerprints.find([fp(secret)], null)).toHaveLength(1);
    });
  });
}
