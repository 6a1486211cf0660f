export * from "./rate.js";
export * from "./budget.js";
export * from "./credits.js";
export * from "./periods.js";
export { MemoryRateLimiter, type MemoryRateOptions } from "./memory-rate.js";
export { MemoryBudgetCounter, type MemoryBudgetOptions } from "./memory-budget.js";
export { RedisRateLimiter, type RedisRateOptions } from "./redis-rate.js";
export { RedisBudgetCounter, type RedisBudgetOptions } from "./redis-budget.js";
