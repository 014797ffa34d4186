import { createHmac } from "node:crypto";
import type { Context } from "hono";
import { AppError } from "../core/errors.ts";
import { hashToken, timingSafeEqualStrings } from "../security/tokens.ts";

/**
 * Browser sessions of the dashboard. The session token lives in an HttpOnly, SameSite=Strict cookie
 * (script cannot read it, other sites cannot send it); every request that changes something must
 * also carry the session's CSRF token in a header, which only a page of cqa can read. API clients
 * keep using X-API-Key or Authorization: Bearer, which are unaffected.
 */
export const sessionCookieName = "cqa_session";
export const csrfHeaderName = "X-CSRF-Token";

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

/** The CSRF token of a session: derived from the session token, so nothing more is stored. */
export function csrfTokenFor(masterKey: string, sessionToken: string): string {
  return createHmac("sha256", masterKey)
    .update(`cqa-csrf\u0000${hashToken(sessionToken)}`)
    .digest("base64url");
}

/** The session token of the request's cookie, if it has one. */
export function sessionTokenFromCookie(c: Context): string | null {
  const header = c.req.header("cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === sessionCookieName) {
      const value = rest.join("=").trim();
      return /^[A-Za-z0-9_-]{20,200}$/.test(value) ? value : null;
    }
  }
  return null;
}

/** Refuses a state-changing request made with the cookie but without the session's CSRF token. */
export function assertCsrf(c: Context, masterKey: string, sessionToken: string): void {
  if (safeMethods.has(c.req.method.toUpperCase())) return;
  const sent = c.req.header(csrfHeaderName.toLowerCase());
  if (!sent || !timingSafeEqualStrings(sent, csrfTokenFor(masterKey, sessionToken))) {
    throw new AppError(
      "FORBIDDEN",
      `This request uses the session cookie and must carry the session's ${csrfHeaderName} header ` +
        "(answered by POST /api/v1/auth/login and GET /api/v1/auth/session)",
    );
  }
}

/**
 * Refuses a cookie sign-in that another site could have made for the browser (login CSRF): it must
 * be JSON (a cross-site form cannot send that without a CORS preflight, which cqa never allows) and
 * must not be marked cross-site by the browser.
 */
export function assertSameSiteSignIn(c: Context): void {
  const contentType = (c.req.header("content-type") ?? "").toLowerCase();
  const site = (c.req.header("sec-fetch-site") ?? "").toLowerCase();
  if (!contentType.startsWith("application/json") || site === "cross-site") {
    throw new AppError(
      "FORBIDDEN",
      "A cookie sign-in must be a same-site request with Content-Type: application/json",
    );
  }
}

/** Whether the request reached cqa over HTTPS (directly or through a proxy that says so). */
function isHttps(c: Context): boolean {
  const forwarded = c.req.header("x-forwarded-proto");
  if (forwarded) return forwarded.split(",")[0]!.trim().toLowerCase() === "https";
  return new URL(c.req.url).protocol === "https:";
}

/** The Set-Cookie value that holds a new session until it expires. */
export function sessionCookie(c: Context, token: string, expiresAt: Date, now: Date): string {
  const maxAge = Math.max(0, Math.round((expiresAt.getTime() - now.getTime()) / 1000));
  return [
    `${sessionCookieName}=${token}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${maxAge}`,
    ...(isHttps(c) ? ["Secure"] : []),
  ].join("; ");
}

/** The Set-Cookie value that removes the session cookie. */
export function clearedSessionCookie(c: Context): string {
  return [
    `${sessionCookieName}=`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    "Max-Age=0",
    ...(isHttps(c) ? ["Secure"] : []),
  ].join("; ");
}
