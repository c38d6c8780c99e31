// The contract every framing implements: a socket-free state machine that turns
// a byte stream into messages (decode) and messages into bytes (encode).

/** Receives each decoded message. The Buffer may be a view into the chunk: copy it to keep it. */
export type MessageCallback = (payload: Buffer) => void;

/** One connection's codec: decoder state plus the encoder that matches it. */
export interface Codec {
  /**
   * Feeds bytes. Calls the message callback once per complete message, in order.
   * Throws EchoplexError (ERR_LINE_TOO_LONG, ERR_FRAME_TOO_LARGE) when a limit is passed;
   * messages completed before the bad one have already been delivered.
   */
  push(chunk: Buffer): void;
  /** End of stream: delivers a final unterminated message where the framing allows one. */
  end(): void;
  /** Bytes held for an incomplete message. */
  readonly bufferedBytes: number;
  /**
   * Appends the bytes that frame `prefix + payload` to `out` (as views, not copies)
   * and returns how many bytes were appended. Line codecs answer in the line ending
   * of the last decoded line (CRLF for CRLF).
   */
  encode(out: Buffer[], payload: Buffer, prefix?: Buffer): number;
}

/**
 * The framings a user picks by name; "messages" is chosen by a message transport, and
 * "syslog" by the sink's --format syslog, not by a flag.
 */
export type FramingName = "lines" | "length" | "raw";
export type FramingKind = FramingName | "messages" | "syslog";

/** A framing: the factory of per-connection codecs, with its limit. */
export interface Framing {
  readonly name: FramingKind;
  /** Largest message accepted; Infinity where the framing has none (raw). */
  readonly maxMessageBytes: number;
  create(onMessage: MessageCallback): Codec;
}
