import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPgSchema, postgresAvailable } from "./services.js";

/** A database a suite can use: SQLite in a temp dir, or a private PostgreSQL schema. */
export interface TestBackend {
  name: "sqlite" | "postgres";
  url: string;
  dataDir: string;
  cleanup(): Promise<void>;
}

export type BackendFactory = { name: "sqlite" | "postgres"; available: boolean; create(): Promise<TestBackend> };

/** Every backend the store runs on; PostgreSQL reports itself unavailable (loudly) when absent. */
export async function backends(): Promise<BackendFactory[]> {
  const pgOk = await postgresAvailable();
  return [
    {
      name: "sqlite", available: true,
      create: async () => {
        const dataDir = mkdtempSync(join(tmpdir(), "latchkey-test-"));
        return { name: "sqlite", url: join(dataDir, "latchkey.db"), dataDir, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
      },
    },
    {
      name: "postgres", available: pgOk,
      create: async () => {
        const dataDir = mkdtempSync(join(tmpdir(), "latchkey-test-"));
        const s = await createPgSchema();
        return { name: "postgres", url: s.url, dataDir, cleanup: async () => { await s.drop(); rmSync(dataDir, { recursive: true, force: true }); } };
      },
    },
  ];
}
