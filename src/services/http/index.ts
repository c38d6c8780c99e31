// The HTTP responder: answers every request after a delay, with per-request overrides
// (`/delay/N`, `/status/N`, `?delay=&status=`, `/echo`, `/healthz`).
export { formatMs, type PlanDefaults, parseDelay, planResponse, type ResponsePlan } from "./plan.js";
export {
  createHttpResponder,
  HTTP_DEFAULT_PORT,
  HTTP_DEFAULTS,
  type HttpPeer,
  HttpResponder,
  type HttpResponderOptions,
  type HttpSettings,
  HttpStats,
} from "./server.js";
