// Reference for the doors benchmark: the plainest `ws` echo server (each message back
// with the "ECHO: " prefix, as text when it came as text). Prints its port.
// Usage: node benchmarks/baselines/ws-echo.mjs [PORT=0]
import { WebSocketServer } from "ws";

const PREFIX = Buffer.from("ECHO: ");
const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(process.argv[2] ?? 0) });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => ws.send(Buffer.concat([PREFIX, data]), { binary: isBinary }));
  ws.on("error", () => {});
});
wss.on("listening", () => console.log(`ws-echo listening on 127.0.0.1:${wss.address().port}`));
