// The services `echoplex serve` can start. Each is its command's definition: the config
// entry's schema comes from the same option declarations as the command's flags, and the
// same factory builds the server, so a config key does what its flag does.
import { z } from "zod";
import { chatService } from "./commands/chat.js";
import { cmdService } from "./commands/cmd.js";
import { echoService } from "./commands/echo.js";
import { httpService } from "./commands/http.js";
import { proxyService } from "./commands/proxy.js";
import { sinkService } from "./commands/sink.js";
import { commonEntryShape, refineTls } from "./config-schema.js";
import { entryShape } from "./option-schema.js";
import type { ServiceDefinition } from "./service-command.js";

/** A service as the registry holds it: its definition and the schema of its config entry. */
export interface RegisteredService {
  name: string;
  defaultPort: number;
  /** The whole config entry (enabled, address and the declared options), strict: unknown fields are errors. */
  schema: z.ZodType;
  definition: ServiceDefinition;
}

/** The registry's view of a service definition. */
export function registerService(definition: ServiceDefinition): RegisteredService {
  return {
    name: definition.name,
    defaultPort: definition.defaultPort,
    schema: z.strictObject({ ...commonEntryShape, ...entryShape(definition.options, { tls: refineTls }) }),
    definition,
  };
}

/** Every service `serve` knows, in start-up order. */
export const SERVICES: readonly RegisteredService[] = [
  echoService,
  chatService,
  cmdService,
  sinkService,
  httpService,
].map(registerService);

/** Services `serve` starts only when its config file or --only names them (a proxy needs its upstream). */
export const NAMED_ONLY: readonly RegisteredService[] = [proxyService].map(registerService);
