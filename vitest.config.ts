import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Network tests open real sockets; forks isolate fd usage and signals per file.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
