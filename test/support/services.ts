/**
 * Real PostgreSQL and Redis for tests. Each suite gets a private PostgreSQL schema and a private
 * Redis key prefix, so suites can run side by side. When a service is not reachable the suite is
 * skipped with a loud warning; with LATCHKEY_TEST_SERVICES=required (CI) it fails instead.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { Redis } from "ioredis";
import { SCHEMA_DDL_LOCK } from "../../src/store/index.js";

export const PG_URL = process.env.LATCHKEY_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.LATCHKEY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const SERVICES_REQUIRED = process.env.LATCHKEY_TEST_SERVICES === "required";

async function reachable(check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

/** Top-level-await these in a test file: `const pgOk = await postgresAvailable();`. */
export async function postgresAvailable(): Promise<boolean> {
  const ok = await reachable(async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
    await c.connect();
    await c.end();
  });
  return announce("PostgreSQL", PG_URL, ok);
}

export async function redisAvailable(): Promise<boolean> {
  const ok = await reachable(async () => {
    const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await r.connect();
    await r.ping();
    r.disconnect();
  });
  return announce("Redis", REDIS_URL, ok);
}

function announce(name: string, url: string, ok: boolean): boolean {
  if (ok) return true;
  if (SERVICES_REQUIRED) throw new Error(`${name} is required (LATCHKEY_TEST_SERVICES=required) but not reachable at ${url}`);
  console.warn(`\n*** SKIPPING ${name} tests: ${name} is not reachable at ${url}. Set LATCHKEY_TEST_SERVICES=required to make this a failure. ***\n`);
  return false;
}

/** A fresh, empty PostgreSQL schema; the URL's connections use it as their search_path. */
export async function createPgSchema(): Promise<{ url: string; schema: string; pgOptions: pg.PoolConfig; drop: () => Promise<void> }> {
  const schema = `lk_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query("select pg_advisory_lock($1)", [SCHEMA_DDL_LOCK]);
  await admin.query(`create schema ${schema}`);
  await admin.query("select pg_advisory_unlock($1)", [SCHEMA_DDL_LOCK]);
  await admin.end();
  const url = `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    url,
    schema,
    pgOptions: { options: `-c search_path=${schema}` },
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      // Under the migrations' lock: a drop must not run while another suite reads the catalog.
      await c.query("select pg_advisory_lock($1)", [SCHEMA_DDL_LOCK]);
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.query("select pg_advisory_unlock($1)", [SCHEMA_DDL_LOCK]);
      await c.end();
    },
  };
}

/** A unique Redis key prefix for one suite, and a function that deletes its keys. */
export function redisPrefix(): { prefix: string; cleanup: () => Promise<void> } {
  const prefix = `lktest:${randomBytes(5).toString("hex")}:`;
  return {
    prefix,
    cleanup: async () => {
      const r = new Redis(REDIS_URL);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length) await r.del(...keys);
      r.disconnect();
    },
  };
}
