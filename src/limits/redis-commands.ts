import type { Redis } from "ioredis";
import { RATE_ADMIT_LUA, RATE_SETTLE_LUA } from "./redis-rate-scripts.js";
import {
  BUDGET_CORRECT_LUA, BUDGET_LOAD_LUA, BUDGET_NEVER_RESERVED_LUA, BUDGET_RESERVE_LUA, BUDGET_SETTLE_LUA, BUDGET_SWEEP_LUA, BUDGET_TOPUP_LUA,
} from "./redis-budget-scripts.js";

type Arg = string | number;
type Script = (numKeys: number, ...keysAndArgs: Arg[]) => Promise<unknown>;

/** The limits' Lua scripts as commands of one ioredis client (EVALSHA, falling back to EVAL). */
export interface LimitsCommands {
  lkRateAdmit: Script;
  lkRateSettle: Script;
  lkBudgetReserve: Script;
  lkBudgetSettle: Script;
  lkBudgetSweep: Script;
  lkBudgetLoad: Script;
  lkBudgetTopUp: Script;
  lkBudgetCorrect: Script;
  lkBudgetNeverReserved: Script;
}

const SCRIPTS: Record<keyof LimitsCommands, string> = {
  lkRateAdmit: RATE_ADMIT_LUA,
  lkRateSettle: RATE_SETTLE_LUA,
  lkBudgetReserve: BUDGET_RESERVE_LUA,
  lkBudgetSettle: BUDGET_SETTLE_LUA,
  lkBudgetSweep: BUDGET_SWEEP_LUA,
  lkBudgetLoad: BUDGET_LOAD_LUA,
  lkBudgetTopUp: BUDGET_TOPUP_LUA,
  lkBudgetCorrect: BUDGET_CORRECT_LUA,
  lkBudgetNeverReserved: BUDGET_NEVER_RESERVED_LUA,
};

/** Define the scripts on `redis` (once per client) and return it typed with them. */
export function withLimitsCommands(redis: Redis): Redis & LimitsCommands {
  const r = redis as Redis & Partial<LimitsCommands>;
  if (!r.lkRateAdmit) for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua });
  return r as Redis & LimitsCommands;
}

/** Redis keys of the limits: `<prefix>{<tag>}:<rest>`; the hash tag groups one tenant's keys in one cluster slot. */
export function keyBase(prefix: string, tag: string): string {
  return `${prefix}{${tag}}:`;
}
