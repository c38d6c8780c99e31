// The sink service: re-exports (the server is in server.ts, records in record.ts, the file in recorder.ts).
export { connectionMeta, encodeRecord, isPlainText, TimestampCache } from "./record.js";
export { type Batch, FileRecorder, type RecorderOptions } from "./recorder.js";
export {
  createSinkServer,
  SINK_DEFAULT_MAX_BUFFERED,
  SINK_DEFAULT_PORT,
  type SinkOptions,
  type SinkPeer,
  SinkServer,
  type SinkStatus,
} from "./server.js";
export { parseSyslog, type SyslogFields, type SyslogResult } from "./syslog.js";
