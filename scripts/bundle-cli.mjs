// Bundles the CLI (dist/cli/main.js and what it imports, as tsc built them) into one
// CommonJS file, dist/cli/echoplex.cjs: the `echoplex` command and `npm start`.
//
// Why: loading ~65 ES modules and pino's and commander's ~40 CommonJS files runs Node's
// module resolver often enough that V8 optimises its path functions with TurboFan, whose
// code then stays in RSS: 4 MiB of an idle `echoplex echo` on Node 20, more on Node 24
// (docs/BENCHMARKS.md, "Idle RSS"). One file has nothing to resolve.
// Why CommonJS: esbuild wraps a module reached only by `import()` in a function that runs
// on first use, so what a command never uses still never runs; and the packages left
// outside the bundle are then `require`d lazily too. (As an ES module bundle they would be
// hoisted to static imports and all load at start.)
// What is bundled: what every command loads at start (echoplex's own code, pino, commander).
// What is not: the other dependencies, which only some commands load, on demand, from
// node_modules as before. The library (`import … from "echoplex"`) is tsc's output, unbundled.
import { build } from "esbuild";

const pkg = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync("package.json", "utf8")));
const bundled = new Set(["pino", "commander"]);
const external = Object.keys(pkg.dependencies).filter((name) => !bundled.has(name));

await build({
  entryPoints: ["dist/cli/main.js"],
  outfile: "dist/cli/echoplex.cjs",
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  external,
  // Whitespace and comments go (less source for V8 to hold); names stay, so a stack trace
  // still reads, and `node --enable-source-maps` maps it back to src/ through the map.
  minifyWhitespace: true,
  sourcemap: true,
  // ASCII only: one non-ASCII character makes V8 hold the whole source as two-byte text.
  charset: "ascii",
  // ES modules read import.meta.url; in the bundle it is the bundle's own URL, which sits
  // in dist/cli/ like main.js did, so relative paths from it still resolve.
  define: { "import.meta.url": "bundleUrl" },
  inject: ["scripts/bundle-cli-url.mjs"],
  logLevel: "warning",
});
