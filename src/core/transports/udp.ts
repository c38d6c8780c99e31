// The UDP door: datagrams from one source address and port are one peer, a stream of
// whole messages (one datagram each way) that the engine serves like any other peer,
// forgotten after --udp-idle of silence. UDP source addresses can be forged, so an
// answer never makes the server an amplifier: a peer is sent at most what it sent
// plus a small allowance per datagram (the reply prefix); the rest is dropped.
import { createSocket, type RemoteInfo, type SocketOptions, type Socket as UdpSocket } from "node:dgram";
import { isIP } from "node:net";
import { Duplex } from "node:stream";
import { messages } from "../../codecs/messages.js";
import { listenError } from "../../errors.js";
import { type Address, formatAddress } from "../address.js";
import { UDP_DEFAULT_IDLE_MS } from "../contract.js";
import type { BoundAddress } from "../listen.js";
import { nextBind } from "../reuse-port.js";
import { everyTick, type TickTask } from "../ticker.js";
import type { Gate, Listener } from "../transport.js";
import { WarnThrottle } from "../warn-throttle.js";

/** Bytes an answer may exceed its request by, per datagram received (a reply prefix, "ECHO: "). */
export const UDP_ANSWER_ALLOWANCE_BYTES = 64;
/** Datagrams held for a peer the engine is not reading (backpressure) before more are dropped. */
const MAX_QUEUED_DATAGRAMS = 1024;

export interface UdpListenerOptions {
  address: Address;
  /** A peer silent this long is forgotten. Default 60 s. */
  idleMs?: number;
  /** Largest datagram served; a larger one is a protocol error (ERR_FRAME_TOO_LARGE). */
  maxDatagramBytes: number;
  /** Counts what the door drops (ERR_UDP_ANSWER_TOO_LARGE, ERR_UDP_BACKLOG). */
  stats: { countError(code: string): void };
  logger: import("../logger.js").Logger;
}

export class UdpListener implements Listener {
  readonly transport = "udp" as const;
  acceptCount = 0;
  private socket: UdpSocket | undefined;
  private gate: Gate | undefined;
  private readonly peers = new Map<string, UdpPeer>();
  private sweep: TickTask | undefined;
  private closing: (() => void) | undefined;
  private readonly warnings: WarnThrottle;
  private readonly idleMs: number;

  constructor(private readonly options: UdpListenerOptions) {
    this.idleMs = options.idleMs ?? UDP_DEFAULT_IDLE_MS;
    this.warnings = new WarnThrottle(options.logger);
  }

  open(gate: Gate): Promise<BoundAddress> {
    this.gate = gate;
    const { host, port } = this.options.address;
    // No host: every interface, IPv4 peers included (a dual-stack socket).
    const type = host === undefined || isIP(host) === 6 ? "udp6" : "udp4";
    const bind = nextBind(port);
    // Under --workers-balance reuseport the kernel keeps a source address on one worker,
    // so a peer's datagrams meet the same peer state (`reusePort`: Node 22.12's types on).
    const socketOptions: SocketOptions & { reusePort?: boolean } = { type, ipv6Only: false };
    if (bind.reusePort) socketOptions.reusePort = true;
    const socket = createSocket(socketOptions);
    this.socket = socket;
    const where = `udp://${formatAddress(host, port)}`;
    return new Promise((resolve, reject) => {
      socket.once("error", (err: NodeJS.ErrnoException) => reject(listenError(err, where)));
      socket.bind({ port: bind.port, ...(host === undefined ? {} : { address: host }) }, () => {
        socket.removeAllListeners("error");
        socket.on("error", (err: NodeJS.ErrnoException) => gate.acceptFailed(err));
        socket.on("message", (datagram, from) => this.received(datagram, from));
        this.sweep = everyTick(Math.min(1000, Math.max(50, this.idleMs / 4)), (now) => this.expire(now));
        const bound = socket.address();
        bind.got(bound.port);
        const display = `udp://${formatAddress(host, bound.port)}`;
        resolve({ host: host ?? bound.address, port: bound.port, family: bound.family, display });
      });
    });
  }

  /** Stops taking new peers; the socket closes once the last peer is gone (they still get their answers). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.closing = resolve;
      this.closeWhenEmpty();
    });
  }

  private received(datagram: Buffer, from: RemoteInfo): void {
    const key = `${from.address}|${from.port}`;
    let peer = this.peers.get(key);
    if (peer === undefined) {
      const gate = this.gate;
      this.acceptCount++;
      if (gate === undefined || !gate.accepting || this.closing !== undefined) return;
      peer = new UdpPeer(this, from.address, from.port);
      peer.credit(datagram.length);
      const framing = messages(this.options.maxDatagramBytes);
      if (!gate.roomFor(peer, from.address, framing)) return;
      this.peers.set(key, peer);
      gate.admit({
        stream: peer,
        transport: "udp",
        remoteAddress: from.address,
        remotePort: from.port,
        secure: false,
        messages: framing,
      });
      // The gate may have refused it (per-address limit): then it is already closing.
      if (peer.destroyed) return;
    } else {
      peer.credit(datagram.length);
    }
    peer.lastSeen = Date.now();
    if (peer.readableLength >= MAX_QUEUED_DATAGRAMS) {
      this.options.stats.countError("ERR_UDP_BACKLOG");
      this.warnings.warn(
        "udp backlog",
        { remote: from.address, port: from.port, queued: MAX_QUEUED_DATAGRAMS },
        "UDP peer sends faster than it is served, dropping datagrams",
      );
      return;
    }
    peer.push(datagram);
  }

  /** Sends one answer to `peer`, within what it may be sent. */
  send(peer: UdpPeer, answer: Buffer, done: (err?: Error | null) => void): void {
    const socket = this.socket;
    if (socket === undefined || !peer.spend(answer.length)) {
      if (socket !== undefined) {
        this.options.stats.countError("ERR_UDP_ANSWER_TOO_LARGE");
        this.warnings.warn(
          "udp answer too large",
          { remote: peer.address, port: peer.port, bytes: answer.length },
          "UDP answer larger than its requests allow (amplification guard), dropped",
        );
      }
      done();
      return;
    }
    // A failed send (the peer's port unreachable) is that datagram lost, as UDP loses them.
    socket.send(answer, peer.port, peer.address, () => done());
  }

  forget(peer: UdpPeer): void {
    const key = `${peer.address}|${peer.port}`;
    if (this.peers.get(key) === peer) this.peers.delete(key);
    this.closeWhenEmpty();
  }

  private expire(now: number): void {
    for (const peer of this.peers.values()) {
      // Silent too long: the peer "ended" its stream, and the engine closes it as a peer that left.
      if (now - peer.lastSeen > this.idleMs && !peer.readableEnded) peer.push(null);
    }
  }

  private closeWhenEmpty(): void {
    if (this.closing === undefined || this.peers.size > 0) return;
    const resolve = this.closing;
    this.sweep?.stop();
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) resolve();
    else socket.close(() => resolve());
  }
}

/** One UDP peer as a stream of whole datagrams. */
class UdpPeer extends Duplex {
  lastSeen = Date.now();
  /** Bytes this peer may still be sent. */
  private allowance = 0;

  constructor(
    private readonly door: UdpListener,
    readonly address: string,
    readonly port: number,
  ) {
    super({ readableObjectMode: true, allowHalfOpen: true });
  }

  credit(requestBytes: number): void {
    this.allowance += requestBytes + UDP_ANSWER_ALLOWANCE_BYTES;
  }

  spend(bytes: number): boolean {
    if (bytes > this.allowance) return false;
    this.allowance -= bytes;
    return true;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.door.send(this, chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    done();
    // UDP has no FIN to wait for, nor a peer to linger for: once the last answer is out, forget it.
    process.nextTick(() => this.destroy());
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.door.forget(this);
    done(err);
  }
}
