// Process exit codes, so that scripts can tell failures apart without parsing messages.
import type { ErrorCode } from "../errors.js";

/** A failure at run time not listed below. */
export const EXIT_FAILURE = 1;
/** Bad usage: an unknown command or flag, a missing or extra argument, a bad option value or address. */
export const EXIT_USAGE = 2;
const EXIT_REFUSED = 3;
const EXIT_UNREACHABLE = 4;
const EXIT_RESET = 5;
const EXIT_TIMEOUT = 6;
const EXIT_TLS = 7;
/** A bench --threshold did not hold: the run worked, the figures are not good enough. */
const EXIT_THRESHOLD = 8;

const BY_ERROR: Partial<Record<ErrorCode, number>> = {
  ERR_USAGE: EXIT_USAGE,
  ERR_BAD_OPTION: EXIT_USAGE,
  ERR_BAD_ADDRESS: EXIT_USAGE,
  ERR_CONFIG: EXIT_USAGE,
  ERR_CONNECTION_REFUSED: EXIT_REFUSED,
  ERR_HOST_UNREACHABLE: EXIT_UNREACHABLE,
  ERR_CONNECTION_RESET: EXIT_RESET,
  ERR_TIMEOUT: EXIT_TIMEOUT,
  ERR_TLS: EXIT_TLS,
  ERR_BAD_THRESHOLD: EXIT_USAGE,
  ERR_THRESHOLD_FAILED: EXIT_THRESHOLD,
  ERR_FAULT_SYNTAX: EXIT_USAGE,
  ERR_REUSEPORT_UNSUPPORTED: EXIT_USAGE,
};

/** The exit code for an error's code: distinct for the network failures a client meets. */
export function exitCodeFor(code: ErrorCode): number {
  return BY_ERROR[code] ?? EXIT_FAILURE;
}
