// Every declared option of every service, set once as a flag and once as a `serve` config
// key: the values that reach the service's factory must be the same (the rest defaults).
// Also: each option of the whole process sits where the config file puts it.
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/cli/config.js";
import { addDeclaredOptions, valuesFromCommand } from "../../src/cli/option-commander.js";
import { valuesFromEntry } from "../../src/cli/option-schema.js";
import { SERVICES } from "../../src/cli/registry.js";
import type { OptionSpec, OptionValues } from "../../src/options/spec.js";

/** A value for each option, as a flag's text and as a config file writes it (not the default). */
function sample(spec: OptionSpec): { text: string | undefined; config: unknown } {
  const special: Record<string, { text: string; config: unknown }> = {
    room: { text: "#dev", config: "#dev" },
    redis: { text: "redis://127.0.0.1:6390", config: "redis://127.0.0.1:6390" },
    host: { text: "127.0.0.1", config: "127.0.0.1" },
    status: { text: "503", config: 503 },
    redisTtl: { text: "2s", config: "2s" },
    unixMode: { text: "0640", config: "0640" },
    wsOrigin: { text: "https://a.example,https://b.example", config: "https://a.example,https://b.example" },
    rotate: { text: "100m", config: "100m" },
    fault: { text: "latency=200ms", config: ["latency=200ms"] },
    faultShare: { text: "0.5", config: 0.5 },
    irc: { text: "127.0.0.1:6667", config: "127.0.0.1:6667" },
  };
  if (special[spec.name] !== undefined) return special[spec.name]!;
  switch (spec.kind) {
    case "size":
      return { text: "3k", config: "3k" };
    case "duration":
      return { text: "1500ms", config: 1.5 };
    case "count":
      return { text: "7", config: 7 };
    case "number":
      return { text: "2.5", config: 2.5 };
    case "boolean":
      return { text: undefined, config: true };
    case "choice": {
      const choice = spec.choices!.find((c) => c !== spec.default)!;
      return { text: choice, config: choice };
    }
    case "headers":
      return { text: "X-A: b", config: { "X-A": "b" } };
    case "port":
      return { text: "9000", config: 9000 };
    default:
      return { text: "sample-text", config: "sample-text" };
  }
}

/** TLS options need a certificate beside them to be valid: the companions of each. */
function companions(
  spec: OptionSpec,
): Array<[flag: string, text: string | undefined, path: string, value: unknown]> {
  if (!spec.flag.startsWith("--tls-")) return [];
  if (spec.name === "tlsCert") return [["--tls-key", "k.pem", "tls.key", "k.pem"]];
  if (spec.name === "tlsKey") return [["--tls-cert", "c.pem", "tls.cert", "c.pem"]];
  const selfSigned: [string, undefined, string, boolean] = [
    "--tls-self-signed",
    undefined,
    "tls.selfSigned",
    true,
  ];
  if (spec.name === "tlsSelfSigned") return [];
  if (spec.name === "tlsRequireClientCert") return [selfSigned, ["--tls-ca", "ca.pem", "tls.ca", "ca.pem"]];
  return [selfSigned];
}

function setPath(entry: Record<string, unknown>, path: string, value: unknown): void {
  const [head, key] = path.split(".") as [string, string | undefined];
  if (key === undefined) entry[head] = value;
  else entry[head] = { ...(entry[head] as Record<string, unknown> | undefined), [key]: value };
}

function fromFlags(specs: readonly OptionSpec[], args: string[]): OptionValues {
  const cmd = addDeclaredOptions(new Command("t").argument("[address]").exitOverride(), specs);
  cmd.parse(args, { from: "user" });
  return valuesFromCommand(cmd, specs);
}

describe("every option: the flag and the serve config key give the same values", () => {
  for (const service of SERVICES) {
    const specs = service.definition.options;
    it(`${service.name}: defaults are the same with no flag and an empty entry`, () => {
      const config = validateConfig({ services: { [service.name]: {} } }, SERVICES);
      expect(valuesFromEntry(specs, config.services![service.name]!)).toEqual(fromFlags(specs, []));
    });
    const table = specs.filter((s) => s.scope !== "process").map((s) => [s.flag, s] as const);
    it.each(table)(`${service.name} %s`, (_flag, spec) => {
      const { text, config } = sample(spec);
      const args = text === undefined ? [spec.flag] : [spec.flag, text];
      const entry: Record<string, unknown> = {};
      setPath(entry, spec.config ?? spec.name, config);
      for (const [flag, flagText, path, value] of companions(spec)) {
        args.push(...(flagText === undefined ? [flag] : [flag, flagText]));
        setPath(entry, path, value);
      }
      const flagValues = fromFlags(specs, args);
      const validated = validateConfig({ services: { [service.name]: entry } }, SERVICES);
      const configValues = valuesFromEntry(specs, validated.services![service.name]!);
      // Not a default: the option did something (a port stays text on the command line).
      expect(flagValues[spec.name]).not.toEqual(spec.default);
      expect(spec.kind === "port" ? String(configValues[spec.name]) : configValues[spec.name]).toEqual(
        flagValues[spec.name],
      );
      const { port: _a, ...flagRest } = flagValues;
      const { port: _b, ...configRest } = configValues;
      expect(configRest).toEqual(flagRest);
    });
  }

  it("options of the whole process sit at their declared place in the config file", () => {
    const specs = SERVICES[0]!.definition.options.filter((s) => s.scope === "process");
    expect(specs.map((s) => s.name).sort()).toEqual([
      "admin",
      "adminToken",
      "logFormat",
      "logLevel",
      "workers",
      "workersBalance",
    ]);
    for (const spec of specs) {
      const value =
        spec.name === "admin" ? "127.0.0.1:9090" : spec.name === "workers" ? 3 : sample(spec).config;
      const data: Record<string, unknown> = spec.name === "adminToken" ? { admin: { address: "9090" } } : {};
      setPath(data, spec.config!, value);
      const config = validateConfig(data, SERVICES) as Record<string, unknown>;
      const [head, key] = spec.config!.split(".") as [string, string | undefined];
      const read = key === undefined ? config[head] : (config[head] as Record<string, unknown>)[key];
      const text = spec.name === "workers" ? "3" : String(value);
      expect(read, spec.flag).toEqual(fromFlags(specs, [spec.flag, text])[spec.name]);
    }
  });
});
