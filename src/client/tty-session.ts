// The client at a terminal: a `> ` prompt with line editing and history (node:readline);
// lines from the server, at any time, are printed above the prompt as `< …` and the
// line being typed is redrawn, so it is never garbled.
import { clearLine, createInterface, cursorTo, type Interface } from "node:readline";
import type { Duplex, Writable } from "node:stream";
import { EchoplexError } from "../errors.js";
import { socketError } from "./connect.js";
import { frameMessage, replyDecoder, replyText } from "./message-framing.js";
import { MessageLink } from "./message-link.js";
import type { SessionOptions } from "./session-options.js";
import { targetName } from "./target.js";
import { PlainTextWatch, speaksTls, tlsExpected } from "./tls-detect.js";

const PROMPT = "> ";
const HISTORY_SIZE = 1000;
/** Exit code when the user interrupts with Ctrl-C (128 + SIGINT), as shells report it. */
const EXIT_INTERRUPTED = 130;

/** Server bytes are shown, not obeyed: control characters (escape sequences) become visible. */
function visible(reply: Buffer): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return reply.toString("utf8").replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => {
    const code = c.charCodeAt(0);
    return code === 0x7f ? "^?" : `^${String.fromCharCode(code + 0x40)}`;
  });
}

/** Prints a line above the prompt and redraws the prompt with what the user has typed so far. */
function printAbove(rl: Interface | undefined, output: Writable, text: string): void {
  if (rl === undefined) {
    output.write(`${text}\n`);
    return;
  }
  cursorTo(output, 0);
  clearLine(output, 0);
  output.write(`${text}\n`);
  rl.prompt(true);
}

export function runTtySession(
  first: Duplex,
  options: SessionOptions,
  /** Connects again (with retries), telling the user about each retry; undefined: no reconnecting. */
  reconnect: ((notify: (text: string) => void) => Promise<Duplex>) | undefined,
): Promise<number> {
  const { input, output, framing, maxLineBytes, waitMs } = options;
  const where = targetName(options, options.tls !== undefined);
  // Only a plain TCP port can be a TLS port in disguise.
  const plainTcp = (options.transport ?? "tcp") === "tcp" && options.tls === undefined;
  return new Promise<number>((resolve, reject) => {
    let socket: Duplex | undefined;
    let rl: Interface | undefined;
    let leaving = false;
    let done = false;
    let waitTimer: NodeJS.Timeout | undefined;
    /** What the current connection received and sent (plain connections only). */
    let current: PlainTextWatch | undefined;

    const say = (text: string) => printAbove(done ? undefined : rl, output, text);

    const finish = (result: number | EchoplexError) => {
      if (done) return;
      done = true;
      if (waitTimer !== undefined) clearTimeout(waitTimer);
      const r = rl;
      rl = undefined;
      r?.close();
      socket?.destroy();
      if (typeof result === "number") resolve(result);
      else reject(result);
    };

    // Before a last word, so that it is not followed by a dead "> ".
    const takePromptDown = () => {
      leaving = true;
      const r = rl;
      rl = undefined;
      if (r !== undefined) {
        cursorTo(output, 0);
        clearLine(output, 0);
        r.close();
      }
    };

    const lost = (why: string, err?: EchoplexError) => {
      socket = undefined;
      if (leaving) {
        finish(0);
        return;
      }
      if (reconnect === undefined) {
        takePromptDown();
        if (err !== undefined) finish(err);
        else {
          say(why);
          finish(0);
        }
        return;
      }
      say(`${why}; reconnecting`);
      reconnect(say).then(
        (s) => {
          if (done) {
            s.destroy();
            return;
          }
          attach(s);
          say(`reconnected to ${where}`);
        },
        (e: unknown) => finish(EchoplexError.is(e) ? e : new EchoplexError("ERR_CONNECT_FAILED", String(e))),
      );
    };

    const attach = (s: Duplex) => {
      socket = s;
      const decoder = replyDecoder(framing, maxLineBytes, (reply) =>
        say(`< ${visible(replyText(framing, reply))}`),
      );
      // A plain connection closed before a single byte came back may have met a TLS port.
      const watch = plainTcp ? new PlainTextWatch() : undefined;
      current = watch;
      let probing = false;
      const closedSilently = (why: string) => {
        if (watch === undefined || watch.received > 0 || !watch.sentAny || leaving) {
          lost(why);
          return;
        }
        probing = true;
        void speaksTls(options.host, options.port).then((yes) => {
          if (!yes) lost(why);
          else {
            takePromptDown();
            finish(tlsExpected(where, "it closed the plain-text connection without a word"));
          }
        });
      };
      s.on("data", (chunk: Buffer) => {
        if (watch?.onData(chunk) === true) {
          takePromptDown();
          finish(tlsExpected(where, "it answered plain text with a TLS record"));
          return;
        }
        try {
          decoder.push(chunk);
        } catch (err) {
          s.destroy();
          finish(EchoplexError.is(err) ? err : new EchoplexError("ERR_CONNECT_FAILED", String(err)));
        }
      });
      s.on("end", () => {
        try {
          decoder.end();
        } catch {
          // a cut-off frame at the end of the stream is not a reply
        }
        const reason = s instanceof MessageLink ? s.closeReason : undefined;
        const why = reason === undefined ? `connection closed by ${where}` : `closed by server: ${reason}`;
        if (socket === s && !probing) closedSilently(why);
      });
      s.on("error", (err: NodeJS.ErrnoException) => {
        const e = socketError(err, where);
        if (socket === s && !probing) lost(e.message, e);
      });
      s.on("close", () => {
        if (socket === s && !probing) lost(`connection to ${where} closed`);
      });
    };

    /** Ctrl-D or /quit: half-close, let the server answer and close, bounded by waitMs. */
    const leave = () => {
      if (leaving) return;
      leaving = true;
      if (socket === undefined || socket.destroyed) {
        finish(0);
        return;
      }
      socket.end();
      waitTimer = setTimeout(() => finish(0), waitMs);
    };

    attach(first);
    const terminal = (output as Writable & { isTTY?: boolean }).isTTY === true;
    rl = createInterface({ input, output, prompt: PROMPT, terminal, historySize: HISTORY_SIZE });
    rl.on("line", (line) => {
      if (line.trim() === "/quit") {
        leave();
        rl?.close();
        return;
      }
      if (socket === undefined || leaving) {
        say("not connected: line not sent");
        return;
      }
      const out: Buffer[] = [];
      frameMessage(framing, Buffer.from(line), out);
      socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
      if (current !== undefined) current.sentAny = true;
      rl?.prompt();
    });
    rl.on("close", () => {
      // Ctrl-D: readline has closed; replies still arriving are printed plainly.
      rl = undefined;
      if (!done && !leaving) {
        output.write("\n");
        leave();
      }
    });
    rl.on("SIGINT", () => {
      output.write("\n");
      finish(EXIT_INTERRUPTED);
    });
    rl.prompt();
  });
}
