import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["node_modules", "dist", "console"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The CLI tests run dist/: built once here when src/ is newer (npm test builds it before).
    globalSetup: ["test/support/build-dist.ts"],
    // Suites that start servers and databases are heavy; two cores run two at a time.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
