// Injected into the CLI bundle (scripts/bundle-cli.mjs): what `import.meta.url` reads there.
import { pathToFileURL } from "node:url";

export const bundleUrl = pathToFileURL(__filename).href;
