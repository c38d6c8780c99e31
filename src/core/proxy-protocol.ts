// PROXY protocol v1 (text) and v2 (binary) header parser, as sent by HAProxy and
// cloud load balancers before the client's bytes: a strict pure function over the
// first bytes of a connection that says "need more", "here is the real peer", or throws.
// Spec: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
import { isIPv4, isIPv6 } from "node:net";
import { EchoplexError } from "../errors.js";

/** The v2 signature: "\r\n\r\n\0\r\nQUIT\n". */
export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
const V1_PREFIX = Buffer.from("PROXY ");
/** The spec's maximum for a v1 line, CRLF included. */
const V1_MAX_BYTES = 107;
/** v2 address block + TLVs we accept; the spec allows 64 KiB, load balancers send a few hundred bytes. */
const V2_MAX_PAYLOAD_BYTES = 4096;
/** The most bytes a valid header can take; a header not complete within this many bytes is refused. */
export const PROXY_HEADER_MAX_BYTES = 16 + V2_MAX_PAYLOAD_BYTES;

export interface ProxyEndpoint {
  address: string;
  port: number;
}

/** What the header says about the connection. */
export type ProxyHeader =
  /** A proxied connection: the real client and the address it connected to. */
  | {
      version: 1 | 2;
      command: "proxy";
      family: "IPv4" | "IPv6";
      source: ProxyEndpoint;
      destination: ProxyEndpoint;
    }
  /**
   * The proxy speaks for itself (v2 LOCAL, a health check), or the addresses are of a
   * kind we do not track (v1 UNKNOWN, v2 UNSPEC/UNIX/DGRAM): the socket's own address stands.
   */
  | { version: 1 | 2; command: "local" };

export type ProxyParseResult =
  | { done: false }
  | {
      done: true;
      header: ProxyHeader;
      /** Bytes the header took; what follows is the client's data. */
      length: number;
    };

const INCOMPLETE: ProxyParseResult = { done: false };

function bad(message: string): EchoplexError {
  return new EchoplexError("ERR_PROXY_PROTOCOL", `bad PROXY protocol header: ${message}`);
}

/** True when `buf` agrees with `prefix` on their common length. */
function startsLike(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.compare(prefix, 0, n, 0, n) === 0;
}

/**
 * Parses the PROXY header at the start of `buf` (every byte received so far).
 * Returns `{ done: false }` while the bytes are a valid beginning of a header;
 * throws EchoplexError(ERR_PROXY_PROTOCOL) as soon as they cannot be one.
 */
export function parseProxyHeader(buf: Buffer): ProxyParseResult {
  if (startsLike(buf, V2_SIGNATURE)) {
    return buf.length < V2_SIGNATURE.length ? INCOMPLETE : parseV2(buf);
  }
  if (startsLike(buf, V1_PREFIX)) {
    return buf.length < V1_PREFIX.length ? INCOMPLETE : parseV1(buf);
  }
  throw bad("the connection did not start with a PROXY v1 or v2 header");
}

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

function parsePort(text: string): number {
  const port = PORT.test(text) ? Number(text) : Number.NaN;
  if (!(port <= 65535)) throw bad(`bad port "${text}"`);
  return port;
}

function parseV1(buf: Buffer): ProxyParseResult {
  const lf = buf.indexOf(0x0a);
  if (lf < 0 || lf >= V1_MAX_BYTES) {
    if (buf.length >= V1_MAX_BYTES) throw bad(`v1 line longer than ${V1_MAX_BYTES} bytes`);
    return INCOMPLETE;
  }
  if (lf === 0 || buf[lf - 1] !== 0x0d) throw bad("v1 line does not end in CRLF");
  const line = buf.toString("latin1", 0, lf - 1);
  const fields = line.split(" ");
  const length = lf + 1;
  // "PROXY UNKNOWN" may be followed by anything; the receiver ignores it.
  if (fields[1] === "UNKNOWN") return { done: true, header: { version: 1, command: "local" }, length };
  if (fields.length !== 6) throw bad("v1 line needs: PROXY TCP4|TCP6 SRC DST SRCPORT DSTPORT");
  const [, proto, src, dst, sport, dport] = fields as [string, string, string, string, string, string];
  let family: "IPv4" | "IPv6";
  if (proto === "TCP4") {
    if (!isIPv4(src) || !isIPv4(dst)) throw bad("v1 TCP4 with an address that is not IPv4");
    family = "IPv4";
  } else if (proto === "TCP6") {
    if (!isIPv6(src) || !isIPv6(dst)) throw bad("v1 TCP6 with an address that is not IPv6");
    family = "IPv6";
  } else {
    throw bad(`v1 protocol "${proto.slice(0, 16)}" is not TCP4, TCP6 or UNKNOWN`);
  }
  return {
    done: true,
    header: {
      version: 1,
      command: "proxy",
      family,
      source: { address: family === "IPv6" ? canonicalIPv6(src) : src, port: parsePort(sport) },
      destination: { address: family === "IPv6" ? canonicalIPv6(dst) : dst, port: parsePort(dport) },
    },
    length,
  };
}

function parseV2(buf: Buffer): ProxyParseResult {
  if (buf.length < 16) return INCOMPLETE;
  const versionCommand = buf[12]!;
  if (versionCommand >> 4 !== 2) throw bad(`v2 version ${versionCommand >> 4} is not 2`);
  const command = versionCommand & 0x0f;
  if (command > 1) throw bad(`v2 command ${command} is neither LOCAL nor PROXY`);
  const familyProto = buf[13]!;
  const family = familyProto >> 4;
  const transport = familyProto & 0x0f;
  if (family > 3 || transport > 2) throw bad(`v2 address family/protocol 0x${familyProto.toString(16)}`);
  const payload = buf.readUInt16BE(14);
  if (payload > V2_MAX_PAYLOAD_BYTES) {
    throw bad(`v2 header of ${payload} bytes exceeds ${V2_MAX_PAYLOAD_BYTES} bytes`);
  }
  const length = 16 + payload;
  if (buf.length < length) return INCOMPLETE;
  // LOCAL (health checks), UNSPEC, UNIX sockets and datagrams: keep the socket's address.
  if (command === 0 || transport !== 1 || (family !== 1 && family !== 2)) {
    return { done: true, header: { version: 2, command: "local" }, length };
  }
  if (family === 1) {
    if (payload < 12) throw bad(`v2 IPv4 address block of ${payload} bytes (needs 12)`);
    return {
      done: true,
      header: {
        version: 2,
        command: "proxy",
        family: "IPv4",
        source: { address: formatIPv4(buf, 16), port: buf.readUInt16BE(24) },
        destination: { address: formatIPv4(buf, 20), port: buf.readUInt16BE(26) },
      },
      length,
    };
  }
  if (payload < 36) throw bad(`v2 IPv6 address block of ${payload} bytes (needs 36)`);
  return {
    done: true,
    header: {
      version: 2,
      command: "proxy",
      family: "IPv6",
      source: { address: formatIPv6(buf, 16), port: buf.readUInt16BE(48) },
      destination: { address: formatIPv6(buf, 32), port: buf.readUInt16BE(50) },
    },
    length,
  };
}

function formatIPv4(buf: Buffer, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

/** RFC 5952 text, as Node reports socket addresses (so per-IP counts agree): `::1`, `::ffff:1.2.3.4`. */
export function formatIPv6(buf: Buffer, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(at + 2 * i));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(buf, at + 12)}`;
  }
  // The longest run of two or more zero groups becomes "::" (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  // inet_ntop writes IPv4-compatible addresses (exactly six leading zero groups) as "::a.b.c.d".
  if (bestStart === 0 && bestLength === 6) return `::${formatIPv4(buf, at + 12)}`;
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/**
 * Rewrites a valid IPv6 text (`2001:0DB8:0::1`) in the form formatIPv6 gives, so that
 * one client is one key for per-IP limits whichever way the proxy spelled it.
 */
function canonicalIPv6(text: string): string {
  const bytes = Buffer.alloc(16);
  let head = text;
  let v4: string | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    v4 = text.slice(lastColon + 1);
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = "", right] = head.split("::") as [string, string | undefined];
  const groups = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const all = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  all.forEach((g, i) => {
    bytes.writeUInt16BE(g, 2 * i);
  });
  if (v4 !== undefined) Buffer.from(v4.split(".").map(Number)).copy(bytes, 12);
  return formatIPv6(bytes, 0);
}

/** Builds a header (for tests and for clients that sit behind nothing but want to say who they are). */
export function encodeProxyHeaderV1(source: ProxyEndpoint, destination: ProxyEndpoint): Buffer {
  const proto = isIPv6(source.address) ? "TCP6" : "TCP4";
  return Buffer.from(
    `PROXY ${proto} ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`,
    "latin1",
  );
}
