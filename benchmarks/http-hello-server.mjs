// The fixed server of bench-http-vs.sh: a bare node:http server answering "hello" to every
// request (keep-alive, Content-Length), so that the load generators are what differs.
// Usage: node benchmarks/http-hello-server.mjs PORT
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 19400);
const body = Buffer.from("hello");
createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
  res.end(body);
}).listen(port, "127.0.0.1");
