import { SocketAddress } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeProxyHeaderV1,
  formatIPv6,
  parseProxyHeader,
  V2_SIGNATURE,
} from "../../src/core/proxy-protocol.js";
import { EchoplexError } from "../../src/errors.js";

function outcome(input: Buffer): "incomplete" | "done" | "refused" {
  try {
    return parseProxyHeader(input).done ? "done" : "incomplete";
  } catch (err) {
    expect(EchoplexError.is(err)).toBe(true);
    expect((err as EchoplexError).code).toBe("ERR_PROXY_PROTOCOL");
    return "refused";
  }
}

const endpoint4 = fc.record({ address: fc.ipV4(), port: fc.nat(65535) });
const v2ipv4 = fc.tuple(endpoint4, endpoint4, fc.uint8Array({ maxLength: 64 })).map(([src, dst, tlv]) => {
  const block = Buffer.alloc(12);
  Buffer.from(src.address.split(".").map(Number)).copy(block, 0);
  Buffer.from(dst.address.split(".").map(Number)).copy(block, 4);
  block.writeUInt16BE(src.port, 8);
  block.writeUInt16BE(dst.port, 10);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(12 + tlv.length);
  return { src, bytes: Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11]), len, block, tlv]) };
});
const v1 = fc
  .tuple(endpoint4, endpoint4)
  .map(([src, dst]) => ({ src, bytes: encodeProxyHeaderV1(src, dst) }));

describe("PROXY protocol parser (properties)", () => {
  it("throws nothing but ERR_PROXY_PROTOCOL for any bytes, and never reads past 16 + 4096 bytes", () => {
    const prefixed = fc
      .tuple(
        fc.constantFrom(Buffer.alloc(0), Buffer.from("PROXY "), V2_SIGNATURE),
        fc.uint8Array({ maxLength: 300 }),
      )
      .map(([p, rest]) => Buffer.concat([p, rest]));
    fc.assert(
      fc.property(prefixed, (input) => {
        const result = outcome(input);
        if (result === "done") {
          const r = parseProxyHeader(input);
          expect(r.done && r.length).toBeLessThanOrEqual(Math.min(input.length, 16 + 4096));
        }
      }),
      { numRuns: 5000 },
    );
  });

  it("a valid header is incomplete at every proper prefix and complete, with the source, whatever follows", () => {
    fc.assert(
      fc.property(fc.oneof(v1, v2ipv4), fc.uint8Array({ maxLength: 50 }), ({ src, bytes }, tail) => {
        for (let i = 0; i < bytes.length; i++) expect(outcome(bytes.subarray(0, i))).toBe("incomplete");
        const r = parseProxyHeader(Buffer.concat([bytes, tail]));
        expect(r.done && r.length).toBe(bytes.length);
        expect(r.done && r.header.command === "proxy" && r.header.source).toEqual(src);
      }),
      { numRuns: 500 },
    );
  });

  it("IPv6 addresses come out as Node writes them (inet_ntop), from v2 bytes and from any v1 spelling", () => {
    // Zero groups are common so that "::" placement is exercised.
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.boolean(), (groups, mapped) => {
        const bytes = Buffer.alloc(16);
        groups.forEach((g, i) => {
          bytes.writeUInt16BE(g, 2 * i);
        });
        if (mapped) bytes.fill(0, 0, 10).writeUInt16BE(0xffff, 10);
        const ours = formatIPv6(bytes, 0);
        const full = groups
          .map((_, i) =>
            bytes
              .readUInt16BE(2 * i)
              .toString(16)
              .padStart(4, "0"),
          )
          .join(":");
        expect(ours).toBe(new SocketAddress({ address: full, family: "ipv6" }).address);
        const v1 = parseProxyHeader(Buffer.from(`PROXY TCP6 ${full.toUpperCase()} ::1 1 2\r\n`));
        expect(v1.done && v1.header.command === "proxy" && v1.header.source.address).toBe(ours);
      }),
      { numRuns: 2000 },
    );
  });
});
