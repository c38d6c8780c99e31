// `npm run test:unit`: the tests that open no socket and start no process (codecs,
// parsers, property tests, config), for a quick loop without root or system packages.
// test/helpers/no-network.ts makes any socket use fail, so a test that starts using the
// network must move out of this list rather than slow it down.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "test/codecs/**/*.test.ts",
      "test/errors.test.ts",
      "test/api.test.ts",
      "test/core/layout.test.ts",
      "test/cli/options-{equivalence,docs}.test.ts",
      "test/core/address*.test.ts",
      "test/core/proxy-protocol*.test.ts",
      "test/cli/config*.test.ts",
      "test/cli/units.property.test.ts",
      "test/services/cmd/parser*.test.ts",
      "test/services/chat/{commands,commands.property,flood,memory-transport,sanitize}.test.ts",
      "test/services/http/plan.test.ts",
      "test/services/sink/record.test.ts",
      "test/observability/worker-aggregation.test.ts",
      "test/bench/http-parser.test.ts",
    ],
    setupFiles: ["test/helpers/no-network.ts"],
    pool: "threads",
  },
});
