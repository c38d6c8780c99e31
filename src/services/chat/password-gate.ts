// The password phase (`--password`): a new user may only send `/pass SECRET` (or
// /quit), has `--pass-tries` attempts and `--pass-timeout` to succeed. The deadlines
// are checked by one task on the shared ticker while anyone is waiting, not by a
// timer per connection.
import type { Logger } from "../../core/logger.js";
import { everyTick, type TickTask } from "../../core/ticker.js";
import { parseCommand } from "./commands.js";
import type { ChatConn, ChatSettings } from "./session.js";
import type { MaybePromise } from "./transport.js";

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export class PasswordGate {
  /** Users who have not sent the password yet. */
  private readonly waiting = new Set<ChatConn>();
  private task: TickTask | undefined;

  constructor(
    private readonly settings: ChatSettings,
    private readonly logger: Logger,
    /** Lets an authenticated user in. */
    private readonly admit: (conn: ChatConn) => MaybePromise<void>,
  ) {}

  /** Whether new users must authenticate first. */
  get required(): boolean {
    return this.settings.password !== undefined;
  }

  /** Starts a new user's password phase and deadline. */
  greet(conn: ChatConn): void {
    const s = conn.state;
    s.phase = "password";
    s.passDeadline = Date.now() + this.settings.passTimeoutMs;
    this.waiting.add(conn);
    if (this.task === undefined) {
      // A quarter of the timeout: a user is cut off at most 25 % late, within 50 ms..1 s.
      const every = Math.max(50, Math.min(1000, Math.floor(this.settings.passTimeoutMs / 4)));
      this.task = everyTick(every, (now) => this.sweep(now));
    }
    conn.send("* Welcome to echoplex chat. This server needs a password: send /pass SECRET");
  }

  /** A line from a user in the password phase (already sanitised and trimmed). */
  line(conn: ChatConn, text: string): MaybePromise<void> {
    const s = conn.state;
    const cmd = parseCommand(text);
    if (cmd.name === "quit") {
      conn.close("closed by service", "* bye");
      return;
    }
    if (cmd.name === "pass" && cmd.secret === this.settings.password) {
      this.forget(conn);
      conn.send("* password accepted");
      return this.admit(conn);
    }
    s.passTries++;
    const left = this.settings.passTries - s.passTries;
    const what = cmd.name === "pass" ? "wrong password" : "send /pass SECRET first";
    if (left <= 0) {
      this.logger.info(
        { conn: conn.id, remote: conn.remoteAddress },
        "password: too many tries, disconnecting",
      );
      conn.close("closed by service", `! ${what}; too many tries, disconnecting`);
      return;
    }
    conn.send(`! ${what} (${left} ${left === 1 ? "try" : "tries"} left)`);
  }

  /** The user authenticated or left: no deadline any more. */
  forget(conn: ChatConn): void {
    if (this.waiting.delete(conn) && this.waiting.size === 0) this.stop();
  }

  /** Stops the deadline checks (the server is closing). */
  stop(): void {
    this.task?.stop();
    this.task = undefined;
  }

  private sweep(now: number): void {
    for (const conn of this.waiting) {
      if (conn.state.passDeadline > now) continue;
      this.forget(conn);
      this.logger.info({ conn: conn.id, remote: conn.remoteAddress }, "password: timed out, disconnecting");
      conn.close(
        "closed by service",
        `! no password within ${formatDuration(this.settings.passTimeoutMs)}, disconnecting`,
      );
    }
  }
}
