// The client in a pipe: each input line goes to the server as a message, each reply
// is printed as is; after the input ends, half-close and wait (bounded) for the rest.
import type { Socket } from "node:net";
import { lines } from "../codecs/lines.js";
import { formatAddress } from "../core/address.js";
import { EchoplexError } from "../errors.js";
import { socketError } from "./connect.js";
import { frameMessage, replyDecoder } from "./message-framing.js";
import type { SessionOptions } from "./session.js";

const LF = Buffer.from("\n");

/** Runs until the server closes (or `waitMs` after the input ended); resolves with the exit code. */
export function runPipeSession(socket: Socket, options: SessionOptions): Promise<number> {
  const { input, output, framing, maxLineBytes, waitMs } = options;
  const where = formatAddress(options.host, options.port);
  return new Promise<number>((resolve, reject) => {
    let done = false;
    let inputEnded = false;
    let waitTimer: NodeJS.Timeout | undefined;
    const replies: Buffer[] = [];
    const requests: Buffer[] = [];

    const finish = (err?: EchoplexError) => {
      if (done) return;
      done = true;
      if (waitTimer !== undefined) clearTimeout(waitTimer);
      input.off("data", onInput);
      input.off("end", onInputEnd);
      input.pause();
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve(0);
    };

    const decoder = replyDecoder(framing, maxLineBytes, (reply) => {
      replies.push(reply, LF);
    });
    // Replies are written once per chunk received, not once per line.
    const writeReplies = () => {
      if (replies.length === 0) return;
      const ok = output.write(Buffer.concat(replies));
      replies.length = 0;
      if (!ok) {
        socket.pause();
        output.once("drain", () => socket.resume());
      }
    };
    const decode = (push: () => void): boolean => {
      try {
        push();
        return true;
      } catch (err) {
        writeReplies();
        finish(overLimit(err, `reply from ${where}`));
        return false;
      }
    };

    socket.on("data", (chunk: Buffer) => {
      if (decode(() => decoder.push(chunk))) writeReplies();
    });
    socket.on("end", () => {
      if (!decode(() => decoder.end())) return;
      writeReplies();
      if (!inputEnded) options.notice(`connection closed by ${where} before the input ended`);
      finish();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => finish(socketError(err, where)));
    socket.on("close", () => finish());

    const inputDecoder = lines({ maxLength: maxLineBytes }).create((line) => {
      frameMessage(framing, line, requests);
    });
    const sendRequests = () => {
      if (requests.length === 0) return;
      const ok = socket.write(Buffer.concat(requests));
      requests.length = 0;
      if (!ok) {
        input.pause();
        socket.once("drain", () => {
          if (!done) input.resume();
        });
      }
    };
    const onInput = (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      try {
        inputDecoder.push(bytes);
      } catch (err) {
        finish(overLimit(err, "input"));
        return;
      }
      sendRequests();
    };
    const onInputEnd = () => {
      inputEnded = true;
      try {
        inputDecoder.end();
      } catch (err) {
        finish(overLimit(err, "input"));
        return;
      }
      sendRequests();
      // Half-close: the server answers what it has and closes; we wait for that, bounded.
      socket.end();
      waitTimer = setTimeout(() => {
        options.notice(`no close from ${where} within ${waitMs} ms after the input ended; exiting`);
        finish();
      }, waitMs);
    };
    // stdout closed early (`| head -1`): nobody reads the replies any more; stop quietly.
    output.once("error", () => finish());
    input.on("data", onInput);
    input.on("end", onInputEnd);
    input.resume();
  });
}

/** A codec's limit error, saying whose line it was and which flag raises the limit. */
function overLimit(err: unknown, whose: string): EchoplexError {
  if (!EchoplexError.is(err)) throw err;
  return new EchoplexError(err.code, `${whose}: ${err.message} (raise it with --max-line)`, { cause: err });
}
