// The client's side of the doors that carry whole messages (WebSocket, UDP), in the
// shape the sessions read from a socket: a Duplex with one message per write and per
// 'data'. Neither door has a half-close, so the end of the input (end()) waits until
// the server has been quiet for a while before hanging up: its last answers still count.
import { Duplex } from "node:stream";

export const DEFAULT_UDP_WAIT_MS = 1_000;

export abstract class MessageLink extends Duplex {
  /** Why the server closed, when it said (a WebSocket close code): `1009 message too big`. */
  closeReason: string | undefined;
  private quietTimer: NodeJS.Timeout | undefined;
  private hangingUp: (() => void) | undefined;

  constructor(
    /** After the input ends, hang up once no message has come for this long. */
    private readonly quietMs: number,
  ) {
    super({ readableObjectMode: true, allowHalfOpen: true });
  }

  /** A message from the server: one 'data' event; after the input ended, it restarts the quiet wait. */
  protected received(message: Buffer): void {
    if (this.hangingUp !== undefined) this.armQuiet(this.hangingUp);
    this.push(message);
  }

  /** The server is gone: no more messages; the stream is destroyed once that has been read. */
  protected ended(): void {
    this.clearQuiet();
    this.push(null);
    this.once("end", () => process.nextTick(() => this.destroy()));
  }

  /** Ends the conversation from this side (a close handshake, or just stop listening). */
  protected abstract hangUp(): void;

  /** Lets go of the socket at once (destroy). */
  protected abstract release(): void;

  override _read(): void {}

  override _final(done: (err?: Error | null) => void): void {
    const hangUp = () => {
      this.hangingUp = undefined;
      this.hangUp();
      done();
    };
    this.hangingUp = hangUp;
    this.armQuiet(hangUp);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.clearQuiet();
    this.hangingUp = undefined;
    this.release();
    done(err);
  }

  private armQuiet(then: () => void): void {
    this.clearQuiet();
    this.quietTimer = setTimeout(then, this.quietMs);
  }

  private clearQuiet(): void {
    if (this.quietTimer !== undefined) clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
  }
}
