// Entry point of a --workers child process: receives its options over IPC, runs
// them, reports progress every 250 ms and the result (histogram encoded) at the end.
import { EchoplexError } from "../errors.js";
import { startBench } from "./index.js";
import type { BenchOptions } from "./options.js";
import type { ParentMessage, WorkerMessage } from "./workers.js";

const send = (msg: WorkerMessage) =>
  new Promise<void>((resolve) => {
    process.send!(msg, undefined, {}, () => resolve());
  });

process.once("message", (options: BenchOptions) => {
  const handle = startBench(options);
  // Ctrl-C reaches the whole process group; the parent also sends "halt".
  process.on("SIGINT", () => handle.halt());
  process.on("message", (msg: ParentMessage) => {
    if (msg.type === "halt") handle.halt();
  });
  const timer = setInterval(() => void send({ type: "progress", progress: handle.progress() }), 250);
  handle.result.then(
    async (result) => {
      clearInterval(timer);
      await send({ type: "result", result });
      process.exit(0);
    },
    async (err: unknown) => {
      clearInterval(timer);
      await send({
        type: "error",
        code: EchoplexError.is(err) ? err.code : "ERR_HANDLER",
        message: err instanceof Error ? err.message : String(err),
      });
      process.exit(1);
    },
  );
});
