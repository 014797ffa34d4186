import { createHmac, randomBytes } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import { newId } from "../core/ids.ts";
import { generateToken, hashToken, timingSafeEqualStrings } from "../security/tokens.ts";
import type { Database } from "../storage/db.ts";
import { getAccount } from "../storage/repositories/accounts.ts";
import { insertSession } from "../storage/repositories/sessions.ts";
import { getUser } from "../storage/repositories/users.ts";

/**
 * Signed, short-lived links that open one dashboard page for one user inside another application's
 * iframe (`/embed/<page>?embed_token=…`). The token is signed with a key derived from the master key
 * (nothing to store until it is used); it is exchanged for a session once, when the page is served.
 */
export interface EmbedTokenClaims {
  /** Token id, spent on first use. */
  id: string;
  accountId: string;
  userId: string;
  /** The page path it opens, e.g. `/analyses` or `/interactions/<id>`. */
  page: string;
  expiresAt: Date;
  /** How long the session it opens lasts. */
  sessionMinutes: number;
}

function signingKey(masterKey: string): Buffer {
  return createHmac("sha256", masterKey).update("cqa-embed-token-v1").digest();
}

function signature(masterKey: string, payload: string): string {
  return createHmac("sha256", signingKey(masterKey)).update(payload).digest("base64url");
}

/** Signs an embed token. */
export function signEmbedToken(
  masterKey: string,
  claims: Omit<EmbedTokenClaims, "id">,
): { token: string; id: string } {
  const id = `${newId()}.${randomBytes(6).toString("hex")}`;
  const payload = Buffer.from(
    JSON.stringify({
      v: 1,
      i: id,
      a: claims.accountId,
      u: claims.userId,
      p: claims.page,
      e: Math.floor(claims.expiresAt.getTime() / 1000),
      s: claims.sessionMinutes,
    }),
  ).toString("base64url");
  return { token: `${payload}.${signature(masterKey, payload)}`, id };
}

/** The claims of a token cqa signed (expired or not), or null for anything else. */
export function readEmbedToken(masterKey: string, token: string): EmbedTokenClaims | null {
  if (typeof token !== "string" || token.length > 2048) return null;
  const [payload, signed, extra] = token.split(".");
  if (!payload || !signed || extra !== undefined) return null;
  if (!timingSafeEqualStrings(signed, signature(masterKey, payload))) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    if (
      claims["v"] !== 1 ||
      typeof claims["i"] !== "string" ||
      typeof claims["a"] !== "string" ||
      typeof claims["u"] !== "string" ||
      typeof claims["p"] !== "string" ||
      typeof claims["e"] !== "number" ||
      typeof claims["s"] !== "number"
    ) {
      return null;
    }
    return {
      id: claims["i"],
      accountId: claims["a"],
      userId: claims["u"],
      page: claims["p"],
      expiresAt: new Date(claims["e"] * 1000),
      sessionMinutes: claims["s"],
    };
  } catch {
    return null;
  }
}

/** The page path of a token's page (without its query). */
export function embedPagePath(page: string): string {
  return page.split("?")[0] ?? page;
}

/** A session opened by an embed link: what the embedded page uses as its bearer token. */
export interface EmbedSession {
  token: string;
  accountId: string;
  userId: string;
  expiresAt: Date;
}

/**
 * Exchanges an embed token for a session, once: the token must be cqa's, unexpired, unused, for this
 * page, and its user still active. Answers null otherwise (the page then shows that the link is spent).
 */
export async function redeemEmbedToken(
  deps: { db: Database; clock: Clock; masterKey: string },
  token: string,
  pagePath: string,
): Promise<EmbedSession | null> {
  const claims = readEmbedToken(deps.masterKey, token);
  const now = deps.clock.now();
  if (!claims || claims.expiresAt <= now || embedPagePath(claims.page) !== pagePath) return null;
  const user = await getUser(deps.db, claims.accountId, claims.userId);
  if (!user || user.disabledAt || !(await getAccount(deps.db, claims.accountId))) return null;
  const sessionToken = generateToken();
  const expiresAt = new Date(now.getTime() + claims.sessionMinutes * 60_000);
  const spent = await deps.db.transaction(async (tx) => {
    const used = await tx.query(
      `INSERT INTO embed_token_uses (token_id, account_id, used_at, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (token_id) DO NOTHING`,
      [claims.id, claims.accountId, now, claims.expiresAt],
    );
    if (used.rowCount === 0) return false;
    await insertSession(tx, {
      id: newId(),
      accountId: claims.accountId,
      userId: claims.userId,
      tokenHash: hashToken(sessionToken),
      createdAt: now,
      expiresAt,
    });
    return true;
  });
  return spent
    ? { token: sessionToken, accountId: claims.accountId, userId: claims.userId, expiresAt }
    : null;
}
