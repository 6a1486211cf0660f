import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["node_modules", "dist", "console"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Suites that start servers and databases are heavy; two cores run two at a time.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
