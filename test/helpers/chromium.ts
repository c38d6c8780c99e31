// Headless Chromium (Debian's, driven by playwright-core) for the browser tests.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

/** Launches it with the flags every browser test needs, and `extraArgs`. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/setup-system.sh (installs Debian's chromium)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", ...extraArgs],
    timeout: 60_000,
  });
}
