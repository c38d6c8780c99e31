// The admin token: a bearer token on every request except /healthz, or a cookie set
// by opening the status page once as /?token=… (so the page's own fetches carry it).
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const TOKEN_COOKIE = "echoplex_admin_token";

export class TokenCheck {
  private readonly digest: Buffer;

  constructor(token: string) {
    this.digest = sha256(token);
  }

  /** Constant-time comparison (of digests, so lengths do not leak either). */
  matches(candidate: string | undefined): boolean {
    return candidate !== undefined && timingSafeEqual(this.digest, sha256(candidate));
  }

  /** True when the request carries the token as a bearer header or as the cookie. */
  allows(req: IncomingMessage): boolean {
    return this.matches(bearer(req)) || this.matches(cookie(req, TOKEN_COOKIE));
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m?.[1];
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The Set-Cookie value that stores the token for the page's later requests. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}
