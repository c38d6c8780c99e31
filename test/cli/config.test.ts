// Config validation for `echoplex serve`: units, TLS entries and error paths.
import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/cli/config.js";
import { SERVICES } from "../../src/cli/registry.js";

function errorOf(data: unknown): string {
  try {
    validateConfig(data, SERVICES);
  } catch (err) {
    return (err as Error).message;
  }
  return "no error";
}

describe("serve config", () => {
  it("converts units and keeps per-service options", () => {
    const config = validateConfig(
      {
        services: {
          echo: { port: 9000, idleTimeout: "2m", maxLine: "1k", tls: { selfSigned: true } },
          http: { delay: 0.25, maxDelay: "10s", headers: { "X-A": "b" } },
        },
      },
      SERVICES,
    );
    expect(config.services?.echo).toMatchObject({ port: 9000, idleTimeout: 120_000, maxLine: 1024 });
    expect(config.services?.http).toMatchObject({ delay: 250, maxDelay: 10_000 });
  });

  it("reports each mistake with its path", () => {
    expect(errorOf({ services: { echo: { port: "8080" } } })).toBe(
      'config: services.echo.port: expected a number, got "8080"',
    );
    expect(errorOf({ services: { http: { status: 700 } } })).toMatch(/^config: services\.http\.status: /);
    expect(errorOf({ services: { echo: { mode: "words" } } })).toBe(
      'config: services.echo.mode: expected one of "lines", "length", "raw"',
    );
    expect(errorOf({ services: { echo: { tls: { cert: "a.pem" } } } })).toBe(
      "config: services.echo.tls: cert and key go together",
    );
    expect(errorOf({ services: { echo: { tls: { selfSigned: true, requireClientCert: true } } } })).toBe(
      "config: services.echo.tls.requireClientCert: needs ca: FILE to check certificates",
    );
    expect(errorOf({ log: { level: "loud" } })).toMatch(/^config: log\.level: expected one of "trace"/);
    expect(errorOf({ servces: {} })).toBe("config: servces: unknown field");
  });
});
