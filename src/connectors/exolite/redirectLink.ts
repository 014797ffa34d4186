import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The signed link of the Exolite dashboard's cqa button:
 * `<cqa>/api/v1/exolite/launch?token=<payload>.<signature>`, where `payload` is base64url JSON and
 * `signature` is base64url HMAC-SHA256 of the payload text under the integration's redirect secret.
 */
export interface RedirectClaims {
  /** The Exolite integration (its id): whose secret signs the link and whose account the user enters. */
  int: string;
  /** The user's e-mail. */
  sub: string;
  /** Display name, for a user created on first sign-in. */
  name?: string;
  /** Role for a user created on first sign-in (when the integration creates users). */
  role?: string;
  /** The dashboard page to land on, a path such as /analyses. */
  target?: string;
  /** Issued at / expires at, in seconds since the epoch. */
  iat: number;
  exp: number;
  /** Unique per link: a link works once. */
  nonce: string;
}

/** Why a link is refused; each has a page that says what to do. */
export type RedirectRefusal =
  | "malformed"
  | "tampered"
  | "expired"
  | "replayed"
  | "unknown_user"
  | "not_configured";

export class RedirectRefused extends Error {
  readonly reason: RedirectRefusal;
  constructor(reason: RedirectRefusal, message: string) {
    super(message);
    this.name = "RedirectRefused";
    this.reason = reason;
  }
}

const sign = (secret: string, payload: string) =>
  createHmac("sha256", secret).update(payload).digest("base64url");

/** Builds a link token (what Exolite does; cqa uses it in tests and documents it). */
export function signRedirectToken(claims: RedirectClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  return `${payload}.${sign(secret, payload)}`;
}

/** Reads a token's claims without trusting them (to find whose secret checks it). */
export function readRedirectClaims(token: string): RedirectClaims {
  const [payload, signature, ...rest] = token.split(".");
  if (!payload || !signature || rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(payload + signature)) {
    throw new RedirectRefused(
      "malformed",
      "The link is incomplete: it must carry token=<payload>.<signature>",
    );
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw new RedirectRefused("malformed", "The link's payload is not readable");
  }
  const c = claims as Partial<RedirectClaims>;
  const valid =
    typeof c === "object" &&
    c !== null &&
    typeof c.int === "string" &&
    typeof c.sub === "string" &&
    /^[^\s@]+@[^\s@]+$/.test(c.sub) &&
    Number.isInteger(c.iat) &&
    Number.isInteger(c.exp) &&
    typeof c.nonce === "string" &&
    c.nonce.length >= 8 &&
    c.nonce.length <= 200 &&
    (c.target === undefined || typeof c.target === "string") &&
    (c.name === undefined || typeof c.name === "string") &&
    (c.role === undefined || typeof c.role === "string");
  if (!valid) {
    throw new RedirectRefused(
      "malformed",
      "The link's payload must hold int, sub (an e-mail), iat, exp (seconds) and nonce (8–200 characters)",
    );
  }
  return c as RedirectClaims;
}

/** Checks the signature and the time limits; answers the claims of a good link. */
export function verifyRedirectToken(
  token: string,
  secret: string,
  now: Date,
  maxAgeSeconds: number,
): RedirectClaims {
  const claims = readRedirectClaims(token);
  const [payload, signature] = token.split(".") as [string, string];
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new RedirectRefused(
      "tampered",
      "The link's signature does not match: it was changed or signed with another secret",
    );
  }
  const nowSeconds = Math.floor(now.getTime() / 1000);
  // A minute of tolerance for the two clocks.
  if (claims.exp < nowSeconds) throw new RedirectRefused("expired", "The link has expired");
  if (claims.iat > nowSeconds + 60 || claims.exp - claims.iat > maxAgeSeconds || claims.exp < claims.iat) {
    throw new RedirectRefused(
      "expired",
      `The link's validity is not acceptable (it may last at most ${maxAgeSeconds} seconds from its issue)`,
    );
  }
  return claims;
}

/** The dashboard path to land on: a local path only (never another site), /analyses by default. */
export function safeTargetPath(target: string | undefined): string {
  if (!target) return "/analyses";
  const ok =
    /^\/(?!\/)[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(target) &&
    !target.startsWith("/api/") &&
    !target.includes("\\");
  return ok ? target : "/analyses";
}
