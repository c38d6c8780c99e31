// The HTTP responder: answers every request after a delay, with per-request overrides
// (`/delay/N`, `/status/N`, `?delay=&status=`, `/echo`, `/healthz`).
export { type HttpPeer, HttpStats } from "./peer.js";
export { formatMs, type PlanDefaults, parseDelay, planResponse, type ResponsePlan } from "./plan.js";
export { createHttpResponder, HttpResponder } from "./server.js";
export {
  HTTP_DEFAULT_PORT,
  HTTP_DEFAULTS,
  type HttpResponderOptions,
  type HttpSettings,
} from "./settings.js";
