// The client in a pipe: each input line goes to the server as a message, each reply
// is printed as is; after the input ends, half-close and wait (bounded) for the rest.
// A plain connection that gets nothing back may be talking to a TLS port: that is
// checked before the session reports success (see tls-detect.ts). On the message doors
// (WebSocket, UDP) each line is one message and the link's end() waits for the last answers.
import type { Duplex } from "node:stream";
import { lines } from "../codecs/lines.js";
import { EchoplexError } from "../errors.js";
import { socketError } from "./connect.js";
import { frameMessage, replyDecoder, replyLine } from "./message-framing.js";
import { MessageLink } from "./message-link.js";
import type { SessionOptions } from "./session-options.js";
import { targetName } from "./target.js";
import { PlainTextWatch, speaksTls, tlsExpected } from "./tls-detect.js";

/**
 * While nothing has come back, the half-close waits this long after the input ends: a
 * TLS port closes a plain connection on its own as soon as it reads the bytes, and only
 * a close that comes before our FIN tells it from a server that closes because the input
 * ended (a sink). Sessions that got a reply half-close at once.
 */
export const SILENT_HALF_CLOSE_DELAY_MS = 500;

/** Runs until the server closes (or `waitMs` after the input ended); resolves with the exit code. */
export function runPipeSession(socket: Duplex, options: SessionOptions): Promise<number> {
  const { input, output, framing, maxLineBytes, waitMs } = options;
  const where = targetName(options, options.tls !== undefined);
  return new Promise<number>((resolve, reject) => {
    let done = false;
    let inputEnded = false;
    let halfClosed = false;
    let probing = false;
    let sentAny = false;
    let waitTimer: NodeJS.Timeout | undefined;
    let holdTimer: NodeJS.Timeout | undefined;
    // Silence is a sign on a plain connection (a TLS port?) and after offering a client
    // certificate (node:tls servers close without an alert when they refuse one).
    // Only a TCP port can be a TLS port in disguise.
    const tcp = (options.transport ?? "tcp") === "tcp";
    const plain = options.tls === undefined;
    const clientCert = options.tls?.cert !== undefined || options.tls?.certFile !== undefined;
    const watch = tcp && (plain || clientCert) ? new PlainTextWatch() : undefined;
    const replies: Buffer[] = [];
    const requests: Buffer[] = [];

    const finish = (err?: EchoplexError) => {
      if (done) return;
      done = true;
      if (waitTimer !== undefined) clearTimeout(waitTimer);
      if (holdTimer !== undefined) clearTimeout(holdTimer);
      input.off("data", onInput);
      input.off("end", onInputEnd);
      input.pause();
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve(0);
    };

    const decoder = replyDecoder(framing, maxLineBytes, (reply) => {
      replyLine(framing, reply, replies);
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

    /**
     * The server closed (or reset, or ignored) a connection that got nothing back: on a
     * plain connection, if the server speaks TLS that is the error; after a client
     * certificate, an early close is its refusal. Otherwise `otherwise` runs (what the
     * session would have done anyway).
     */
    const unlessSilent = (what: "closed" | "reset" | "quiet", otherwise: () => void) => {
      if (probing) return; // the probe under way decides
      // A TLS server says nothing until it has bytes to reject: silence to silence means nothing.
      if (watch === undefined || watch.received > 0 || (plain && !sentAny)) {
        otherwise();
        return;
      }
      if (!plain) {
        if (what !== "quiet") finish(certificateRefused(where, what));
        else otherwise();
        return;
      }
      probing = true;
      input.pause();
      void speaksTls(options.host, options.port).then((yes) => {
        probing = false;
        const how =
          what === "quiet"
            ? `no answer to plain text within ${waitMs} ms`
            : `it ${what} the plain-text connection without a word`;
        if (yes) finish(tlsExpected(where, how));
        else otherwise();
      });
    };

    socket.on("data", (chunk: Buffer) => {
      if (watch?.onData(chunk) === true && plain) {
        finish(tlsExpected(where, "it answered plain text with a TLS record"));
        return;
      }
      if (holdTimer !== undefined) halfClose();
      if (decode(() => decoder.push(chunk))) writeReplies();
    });
    socket.on("end", () => {
      if (!decode(() => decoder.end())) return;
      writeReplies();
      const closed = () => {
        const reason = socket instanceof MessageLink ? socket.closeReason : undefined;
        if (reason !== undefined) options.notice(`closed by server: ${reason}`);
        else if (!inputEnded) options.notice(`connection closed by ${where} before the input ended`);
        finish();
      };
      // After our FIN, a silent close is what a sink does too: only an earlier one is a sign.
      if (halfClosed) closed();
      else unlessSilent("closed", closed);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      const failed = () => finish(socketError(err, where));
      if (halfClosed) failed();
      else unlessSilent("reset", failed);
    });
    socket.on("close", () => {
      if (!probing) finish();
    });

    const inputDecoder = lines({ maxLength: maxLineBytes }).create((line) => {
      frameMessage(framing, line, requests);
    });
    const sendRequests = () => {
      if (requests.length === 0) return;
      sentAny = true;
      let ok = true;
      // A message door sends each line as a message of its own; a stream takes them in one write.
      if (framing === "messages") for (const message of requests) ok = socket.write(message);
      else ok = socket.write(Buffer.concat(requests));
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
      if (watch !== undefined && watch.received === 0) {
        holdTimer = setTimeout(halfClose, SILENT_HALF_CLOSE_DELAY_MS);
      } else halfClose();
    };
    // Half-close: the server answers what it has and closes; we wait for that, bounded.
    const halfClose = () => {
      if (holdTimer !== undefined) clearTimeout(holdTimer);
      holdTimer = undefined;
      if (halfClosed || done) return;
      halfClosed = true;
      socket.end();
      const bound = () => {
        if (done) return;
        waitTimer = setTimeout(() => {
          unlessSilent("quiet", () => {
            options.notice(`no close from ${where} within ${waitMs} ms after the input ended; exiting`);
            finish();
          });
        }, waitMs);
      };
      // A message link hangs up once the server is quiet (--udp-wait): --wait bounds the close after that.
      if (socket instanceof MessageLink) socket.once("finish", bound);
      else bound();
    };
    // stdout closed early (`| head -1`): nobody reads the replies any more; stop quietly.
    output.once("error", () => finish());
    input.on("data", onInput);
    input.on("end", onInputEnd);
    input.resume();
  });
}

/** node:tls servers refuse a client certificate by closing right after the handshake, with no alert. */
function certificateRefused(where: string, what: string): EchoplexError {
  return new EchoplexError(
    "ERR_TLS",
    `TLS with ${where} failed: the server ${what} the connection right after the handshake without a word; it probably refused the client certificate (is --cert signed by a CA it trusts?)`,
  );
}

/** A codec's limit error, saying whose line it was and which flag raises the limit. */
function overLimit(err: unknown, whose: string): EchoplexError {
  if (!EchoplexError.is(err)) throw err;
  return new EchoplexError(err.code, `${whose}: ${err.message} (raise it with --max-line)`, { cause: err });
}
