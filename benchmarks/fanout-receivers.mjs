// Receivers of the chat fan-out benchmark (benchmarks/chat-irc-fanout.ts), in their own
// process so that neither the sender's nor the parent's work shares their event loop, and
// so that their CPU time is counted apart. Driven over IPC (advanced serialization):
//   {cmd: "open", kind: "nc"|"irc", port, count, messages} -> {ready}
//   {cmd: "start"} marks the CPU clock; {done} is sent once every receiver has every message
//   {cmd: "finish"} -> {arrivals: Float64Array (receiver * messages + seq), got, cpuMs}
// Arrival times are performance.timeOrigin + performance.now(), comparable across processes.
import { connect } from "node:net";
import { performance } from "node:perf_hooks";

const MARKER = { nc: "> m ", irc: " PRIVMSG #lobby :m " };
let sockets = [];
let arrivals = new Float64Array(0);
let got = 0;
let expected = 0;
let cpuAtStart = process.cpuUsage();

const now = () => performance.timeOrigin + performance.now();

function receive(socket, index, kind, messages) {
  const marker = MARKER[kind];
  let rest = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk) => {
    const at = now();
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const m = text.indexOf(marker, start);
      if (m >= 0 && m < nl) {
        const seq = Number.parseInt(text.slice(m + marker.length, nl), 10);
        if (seq >= 0 && seq < messages) {
          arrivals[index * messages + seq] = at;
          got++;
        }
      }
      start = nl + 1;
    }
    rest = text.slice(start);
    if (got === expected) process.send({ done: true });
  });
}

/** Connects and waits until the user is in #lobby (nc: the join line; IRC: registered and joined). */
function open(port, kind, n) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", noDelay: true });
    socket.once("error", reject);
    socket.once("connect", () => {
      if (kind === "irc") socket.write(`NICK r${n}\r\nUSER r${n} 0 * :r\r\nJOIN #lobby\r\n`);
    });
    const ready = kind === "irc" ? " 366 " : "joined";
    let seen = "";
    const onData = (d) => {
      seen += d.toString("latin1");
      if (seen.includes(ready)) {
        socket.off("data", onData);
        resolve(socket);
      }
    };
    socket.on("data", onData);
  });
}

process.on("message", async (msg) => {
  if (msg.cmd === "open") {
    arrivals = new Float64Array(msg.count * msg.messages);
    got = 0;
    expected = msg.count * msg.messages;
    sockets = [];
    for (let i = 0; i < msg.count; i++) {
      const socket = await open(msg.port, msg.kind, i);
      receive(socket, i, msg.kind, msg.messages);
      sockets.push(socket);
    }
    process.send({ ready: true });
  } else if (msg.cmd === "start") {
    cpuAtStart = process.cpuUsage();
  } else if (msg.cmd === "finish") {
    const cpu = process.cpuUsage(cpuAtStart);
    for (const s of sockets) s.destroy();
    sockets = [];
    process.send({ arrivals, got, cpuMs: (cpu.user + cpu.system) / 1000 });
  } else if (msg.cmd === "exit") {
    process.exit(0);
  }
});
