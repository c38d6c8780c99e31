import {
  Command,
  IPv4Address,
  IPv4ProxyAddress,
  IPv6Address,
  IPv6ProxyAddress,
  TransportProtocol,
  V2ProxyProtocol,
} from "proxy-protocol-js";
import { describe, expect, it } from "vitest";
import { parseProxyHeader, V2_SIGNATURE } from "../../src/core/proxy-protocol.js";
import { EchoplexError } from "../../src/errors.js";

const b = (s: string) => Buffer.from(s, "latin1");

function refused(input: Buffer): string {
  try {
    parseProxyHeader(input);
  } catch (err) {
    expect(EchoplexError.is(err)).toBe(true);
    expect((err as EchoplexError).code).toBe("ERR_PROXY_PROTOCOL");
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(input.toString("latin1"))}`);
}

/** A v2 header by hand: version/command, family/protocol, address block. */
function v2(verCmd: number, famProto: number, block: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(block.length);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([verCmd, famProto]), len, block]);
}

describe("PROXY protocol v1", () => {
  it("parses TCP4 and TCP6 lines and says where the client's data starts", () => {
    const line = "PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n";
    expect(parseProxyHeader(b(`${line}GET /`))).toEqual({
      done: true,
      header: {
        version: 1,
        command: "proxy",
        family: "IPv4",
        source: { address: "192.0.2.7", port: 56324 },
        destination: { address: "10.0.0.1", port: 443 },
      },
      length: line.length,
    });
    // One client, one key for per-IP limits: IPv6 is rewritten the way Node reports socket addresses.
    for (const [spelled, canonical] of [
      ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
      ["0:0:0:0:0:ffff:192.0.2.1", "::ffff:192.0.2.1"],
      ["::FFFF:C000:0201", "::ffff:192.0.2.1"],
      ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
      ["::", "::"],
      ["fe80:0:0:0:1::", "fe80::1:0:0:0"],
    ]) {
      const h = parseProxyHeader(b(`PROXY TCP6 ${spelled} ::1 1 2\r\n`));
      expect(h.done && h.header.command === "proxy" && h.header.source.address).toBe(canonical);
    }
    const r = parseProxyHeader(b("PROXY TCP6 2001:DB8::7 ::1 1 65535\r\n"));
    expect(r.done && r.header.command === "proxy" && r.header.source).toEqual({
      address: "2001:db8::7",
      port: 1,
    });
  });

  it("treats UNKNOWN as 'keep the socket's address'", () => {
    expect(parseProxyHeader(b("PROXY UNKNOWN\r\n"))).toEqual({
      done: true,
      header: { version: 1, command: "local" },
      length: 15,
    });
    expect(parseProxyHeader(b("PROXY UNKNOWN ffff:: 1.2.3.4 1 2\r\nx")).done).toBe(true);
  });

  it("waits for more at every prefix of a valid line", () => {
    const line = b("PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\r\n");
    for (let i = 0; i < line.length; i++)
      expect(parseProxyHeader(line.subarray(0, i))).toEqual({ done: false });
  });

  it("refuses malformed lines with a typed error", () => {
    expect(refused(b("GET / HTTP/1.1\r\n"))).toMatch(/did not start with a PROXY v1 or v2 header/);
    expect(refused(b("hello\n"))).toMatch(/did not start/);
    expect(refused(b("PROXY TCP4 192.0.2.7 10.0.0.1 56324 443\n"))).toMatch(/CRLF/);
    expect(refused(b("PROXY TCP4 192.0.2.7 10.0.0.1 56324\r\n"))).toMatch(/needs/);
    expect(refused(b("PROXY TCP4 ::1 10.0.0.1 1 2\r\n"))).toMatch(/not IPv4/);
    expect(refused(b("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"))).toMatch(/not IPv6/);
    expect(refused(b("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"))).toMatch(/bad port/);
    expect(refused(b("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"))).toMatch(/bad port/);
    expect(refused(b("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"))).toMatch(/needs/);
    expect(refused(b("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"))).toMatch(/not TCP4/);
    expect(refused(b(`PROXY TCP4 ${"1".repeat(120)}`))).toMatch(/longer than 107/);
  });
});

describe("PROXY protocol v2", () => {
  it("parses headers built by another implementation (proxy-protocol-js): IPv4 and IPv6", () => {
    const four = new V2ProxyProtocol(
      Command.PROXY,
      TransportProtocol.STREAM,
      new IPv4ProxyAddress(
        IPv4Address.createFrom([198, 51, 100, 9]),
        40000,
        IPv4Address.createFrom([10, 0, 0, 1]),
        7,
      ),
    ).build();
    expect(parseProxyHeader(Buffer.concat([Buffer.from(four), b("data")]))).toEqual({
      done: true,
      header: {
        version: 2,
        command: "proxy",
        family: "IPv4",
        source: { address: "198.51.100.9", port: 40000 },
        destination: { address: "10.0.0.1", port: 7 },
      },
      length: 28,
    });
    const six = new V2ProxyProtocol(
      Command.PROXY,
      TransportProtocol.STREAM,
      new IPv6ProxyAddress(
        IPv6Address.createFrom([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x42]),
        443,
        IPv6Address.createFrom([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]),
        80,
      ),
    ).build();
    const r = parseProxyHeader(Buffer.from(six));
    expect(r.done && r.header.command === "proxy" && [r.header.source, r.header.destination]).toEqual([
      { address: "2001:db8::1:0:0:42", port: 443 },
      { address: "::ffff:127.0.0.1", port: 80 },
    ]);
  });

  it("skips TLVs after the addresses", () => {
    const block = Buffer.concat([
      Buffer.from([203, 0, 113, 5, 10, 0, 0, 1, 0x1f, 0x90, 0, 80]),
      b("\x04\x00\x03abc"),
    ]);
    const r = parseProxyHeader(Buffer.concat([v2(0x21, 0x11, block), b("hi\n")]));
    expect(r.done && r.length).toBe(16 + block.length);
    expect(r.done && r.header.command === "proxy" && r.header.source).toEqual({
      address: "203.0.113.5",
      port: 8080,
    });
  });

  it("LOCAL, UNSPEC, UNIX and DGRAM keep the socket's address", () => {
    const ipv4 = Buffer.alloc(12);
    expect(parseProxyHeader(v2(0x20, 0x11, ipv4))).toMatchObject({
      done: true,
      header: { command: "local" },
    });
    expect(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(0)))).toMatchObject({
      done: true,
      header: { command: "local" },
    });
    expect(parseProxyHeader(v2(0x21, 0x31, Buffer.alloc(216)))).toMatchObject({
      done: true,
      header: { command: "local" },
    });
    expect(parseProxyHeader(v2(0x21, 0x12, ipv4))).toMatchObject({
      done: true,
      header: { command: "local" },
    });
  });

  it("waits for more at every prefix, and refuses bad versions, commands, families and lengths", () => {
    const whole = v2(0x21, 0x11, Buffer.alloc(12, 1));
    for (let i = 0; i < whole.length; i++)
      expect(parseProxyHeader(whole.subarray(0, i))).toEqual({ done: false });
    expect(refused(v2(0x11, 0x11, Buffer.alloc(12)))).toMatch(/version 1 is not 2/);
    expect(refused(v2(0x22, 0x11, Buffer.alloc(12)))).toMatch(/command 2/);
    expect(refused(v2(0x21, 0x41, Buffer.alloc(12)))).toMatch(/family/);
    expect(refused(v2(0x21, 0x11, Buffer.alloc(8)))).toMatch(/needs 12/);
    expect(refused(v2(0x21, 0x21, Buffer.alloc(20)))).toMatch(/needs 36/);
    const huge = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
    expect(refused(huge)).toMatch(/65535 bytes exceeds 4096/);
    const broken = Buffer.from(V2_SIGNATURE);
    broken[11] = 0;
    expect(refused(broken)).toMatch(/did not start/);
  });
});
