// The floor of a Node TCP proxy: node:net sockets joined with pipe(), nothing else (no
// faults, no counters, no registry). What it spends per request is what Node's own socket
// path costs; benchmarks/proxy-redis.ts runs it beside `echoplex proxy` and HAProxy.
// Usage: node benchmarks/node-pipe-proxy.mjs UPSTREAM_PORT  (prints "listening PORT")
import { connect, createServer } from "node:net";

const upstream = Number(process.argv[2]);
const server = createServer((client) => {
  client.setNoDelay(true);
  const up = connect({ host: "127.0.0.1", port: upstream, noDelay: true });
  client.pipe(up);
  up.pipe(client);
  client.on("error", () => up.destroy());
  up.on("error", () => client.destroy());
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
