// One place that turns a framing's name (a flag value, a config key) into its codec
// factory, so services, the client and bench never spell the choice out themselves.
import { lengthPrefixed } from "./length-prefixed.js";
import { lines } from "./lines.js";
import { raw } from "./raw.js";
import type { Framing, FramingName } from "./types.js";

/** The framing called `name`, limited to `maxMessageBytes` (its default when omitted; raw has none). */
export function framingFor(name: FramingName, maxMessageBytes?: number): Framing {
  const limit = maxMessageBytes === undefined ? {} : { maxLength: maxMessageBytes };
  switch (name) {
    case "raw":
      return raw();
    case "length":
      return lengthPrefixed(limit);
    case "lines":
      return lines(limit);
  }
}
