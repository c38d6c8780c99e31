// A real HAProxy in TCP mode in front of a test server: one frontend per backend line,
// each on a free loopback port, sending a PROXY header (v1 or v2) to the server.
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectClient, freePort, sleep } from "./net.js";

export interface RunningHaproxy {
  /** The frontend ports, in the order of the `sendProxy` list given. */
  ports: number[];
  /** The haproxy process (its CPU time is read by benchmarks). */
  pid: number | undefined;
  stop(): void;
}

/** Starts HAProxy with one frontend per entry of `sendProxy`, each forwarding to `backendPort`. */
export async function startHaproxy(
  backendPort: number,
  /** `plain`: no PROXY header (HAProxy as a reference proxy in benchmarks). */
  sendProxy: ReadonlyArray<"send-proxy" | "send-proxy-v2" | "plain">,
): Promise<RunningHaproxy> {
  const ports: number[] = [];
  for (const _ of sendProxy) ports.push(await freePort());
  const sections = sendProxy.map(
    (mode, i) => `frontend f${i}
  bind 127.0.0.1:${ports[i]}
  default_backend b${i}
backend b${i}
  server s 127.0.0.1:${backendPort}${mode === "plain" ? "" : ` ${mode}`}
`,
  );
  const cfg = join(tmpdir(), `echoplex-haproxy-${process.pid}-${ports[0]}.cfg`);
  writeFileSync(
    cfg,
    `global
  maxconn 1000
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
${sections.join("")}`,
  );
  const proc: ChildProcess = spawn("haproxy", ["-db", "-f", cfg], { stdio: ["ignore", "ignore", "pipe"] });
  // Wait until HAProxy accepts on every frontend (it may start slowly on a loaded machine).
  for (const port of ports) {
    for (let i = 0; ; i++) {
      try {
        (await connectClient(port)).destroy();
        break;
      } catch (err) {
        if (i > 400) {
          proc.kill("SIGKILL");
          throw err;
        }
        await sleep(50);
      }
    }
  }
  return { ports, pid: proc.pid, stop: () => proc.kill("SIGTERM") };
}
