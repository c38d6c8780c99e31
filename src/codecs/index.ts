// Framing: pure codecs over Buffers, no sockets.

export { framingFor } from "./framing-for.js";
export {
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  type LengthPrefixedOptions,
  lengthPrefixed,
} from "./length-prefixed.js";
export { DEFAULT_MAX_LINE_BYTES, type LinesOptions, lines } from "./lines.js";
export { DEFAULT_MAX_MESSAGE_BYTES, messages } from "./messages.js";
export { raw } from "./raw.js";
export { type SyslogStreamOptions, syslogStream } from "./syslog-stream.js";
export type { Codec, Framing, FramingKind, FramingName, MessageCallback } from "./types.js";
