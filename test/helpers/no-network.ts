// Setup file of `npm run test:unit`: any attempt to listen, connect or spawn fails the
// test, so the unit run stays socket-free, root-free and fast.
import childProcess from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";

function forbidden(what: string): never {
  throw new Error(`${what} in a unit test: move this test out of vitest.unit.config.ts`);
}

net.Server.prototype.listen = () => forbidden("net.Server.listen");
net.Socket.prototype.connect = () => forbidden("net.Socket.connect");
for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"] as const) {
  Object.defineProperty(childProcess, name, { value: () => forbidden(`child_process.${name}`) });
}
// Named ESM imports of builtins are copies: push the patched functions to them too.
syncBuiltinESMExports();
