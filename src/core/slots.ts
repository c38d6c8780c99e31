// The engine's fields on a Connection, keyed by symbols that only src/core imports:
// a service sees the connection's public API, the engine reads and writes these as
// plain properties (no Map lookup, no extra object on the hot path). Not exported
// from the package; nothing outside src/core (and engine tests) imports this file.
export const kSocket = Symbol("echoplex.socket");
/** The stream carries whole messages (WebSocket, UDP): each reply is written on its own, never joined. */
export const kWholeMessages = Symbol("echoplex.wholeMessages");
/** The engine that flushes and closes the connection (EngineLink). */
export const kEngine = Symbol("echoplex.engine");
export const kCodec = Symbol("echoplex.codec");
/** Outbox: views of the bytes to write at the next flush, and their total. */
export const kOut = Symbol("echoplex.out");
export const kOutBytes = Symbol("echoplex.outBytes");
/** Queued for the once-per-tick flush. */
export const kFlushQueued = Symbol("echoplex.flushQueued");
export const kStatus = Symbol("echoplex.status");
/** True while reading is paused because the peer is not reading its replies. */
export const kPaused = Symbol("echoplex.paused");
/** Reads held by the service (holdInput), independent of the engine's own backpressure pause. */
export const kInputHolds = Symbol("echoplex.inputHolds");
/** True once the peer half-closed (FIN received). */
export const kPeerEnded = Symbol("echoplex.peerEnded");
export const kCloseReason = Symbol("echoplex.closeReason");
/**
 * A close decided while earlier messages' replies were still being produced (a protocol
 * error behind a pending disk write): it happens, notice last, once they are queued.
 */
export const kCloseAfterReplies = Symbol("echoplex.closeAfterReplies");
/** Requests whose (asynchronous) reply has not been queued yet. */
export const kInflight = Symbol("echoplex.inflight");
/** When a read sampled for the latency histogram arrived (performance.now()); 0: none pending. */
export const kSampleStart = Symbol("echoplex.sampleStart");
/** The message rate limit (undefined: none). */
export const kRateLimiter = Symbol("echoplex.rateLimiter");
/** When the partial line now buffered began (coarse clock; 0: none buffered). */
export const kPartialSince = Symbol("echoplex.partialSince");
// The counters services read through getters; only the engine writes them.
export const kLastActivity = Symbol("echoplex.lastActivity");
export const kBytesIn = Symbol("echoplex.bytesIn");
export const kBytesOut = Symbol("echoplex.bytesOut");
export const kMessagesIn = Symbol("echoplex.messagesIn");
export const kMessagesOut = Symbol("echoplex.messagesOut");
/** The connection's fault stage (--fault); undefined, as for nearly every connection: replies go straight out. */
export const kFaults = Symbol("echoplex.faults");
