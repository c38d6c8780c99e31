import { describe, expect, it } from "vitest";
import { formatAddress, parseAddress } from "../../src/core/address.js";

describe("parseAddress", () => {
  it.each([
    ["8080", undefined, 8080],
    [":8080", undefined, 8080],
    ["0", undefined, 0],
    ["127.0.0.1:8080", "127.0.0.1", 8080],
    ["[::1]:8080", "::1", 8080],
    ["localhost:8080", "localhost", 8080],
    ["example.com:1", "example.com", 1],
  ])("parses %s", (input, host, port) => {
    expect(parseAddress(input)).toEqual({ host, port });
  });

  it("takes the default port for a bare host", () => {
    expect(parseAddress("localhost", 8081)).toEqual({ host: "localhost", port: 8081 });
    expect(parseAddress("[::1]", 8081)).toEqual({ host: "::1", port: 8081 });
  });

  it.each([
    ["", /empty/],
    ["65536", /above 65535/],
    [":abc", /port must be a number/],
    ["[::1", /missing "]"/],
    ["[1.2.3.4]:80", /not an IPv6/],
    ["bad host!:80", /not a host name/],
    ["localhost", /missing port/],
  ])("rejects %j with a clear message", (input, message) => {
    expect(() => parseAddress(input)).toThrowError(message);
  });

  it("formats addresses", () => {
    expect(formatAddress(undefined, 8080)).toBe("*:8080");
    expect(formatAddress("::1", 1)).toBe("[::1]:1");
    expect(formatAddress("127.0.0.1", 2)).toBe("127.0.0.1:2");
  });
});
