// Two real `nc` users chatting, as in the sample session of docs/chat.md (and the README's).
import type { ChildProcess } from "node:child_process";
import { afterEach, expect, it } from "vitest";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { ncUser } from "../../helpers/nc-user.js";

let cli: RunningCli | undefined;
const procs: ChildProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  await cli?.stop("SIGKILL");
});

const nc = (port: number) => ncUser(port, procs);

it("two nc users chat", async () => {
  cli = await startCli(["chat", "127.0.0.1:0"]);
  const alice = nc(cli.port);
  await alice.waitFor("* guest-1 joined #lobby");
  alice.type("/nick alice");
  await alice.waitFor("* guest-1 is now known as alice");
  const bob = nc(cli.port);
  await bob.waitFor("* guest-2 joined #lobby");
  bob.type("/nick bob");
  await alice.waitFor("* guest-2 is now known as bob");
  alice.type("hi bob!");
  await bob.waitFor("<alice> hi bob!");
  bob.type("/me waves");
  await alice.waitFor("* bob waves");
  bob.type("/quit");
  await alice.waitFor("* bob left #lobby (quit)");
  expect(bob.output()).toBe(
    [
      "* Welcome to echoplex chat, guest-2! You are in #lobby. Type /help for commands.",
      "* guest-2 joined #lobby",
      "* guest-2 is now known as bob",
      "<alice> hi bob!",
      "* bye",
      "",
    ].join("\n"),
  );
});
