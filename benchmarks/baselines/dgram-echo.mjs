// Reference for the doors benchmark: the plainest `node:dgram` echo server (each datagram
// back to its sender with the "ECHO: " prefix). Prints its port.
// Usage: node benchmarks/baselines/dgram-echo.mjs [PORT=0]
import { createSocket } from "node:dgram";

const PREFIX = Buffer.from("ECHO: ");
const socket = createSocket("udp4");
socket.on("message", (msg, rinfo) => socket.send([PREFIX, msg], rinfo.port, rinfo.address));
socket.bind(Number(process.argv[2] ?? 0), "127.0.0.1", () =>
  console.log(`dgram-echo listening on 127.0.0.1:${socket.address().port}`),
);
