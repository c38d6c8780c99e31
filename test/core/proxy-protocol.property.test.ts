import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EchoplexError } from "../../src/core/errors.js";
import { encodeProxyHeaderV1, parseProxyHeader, V2_SIGNATURE } from "../../src/core/proxy-protocol.js";

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
});
