import type { Context } from "hono";
import type { Clock } from "../core/clock.ts";
import type { Database } from "../storage/db.ts";
import { getAccount } from "../storage/repositories/accounts.ts";
import { readEmbedToken, redeemEmbedToken } from "../tenancy/embedTokens.ts";
import type { DashboardOptions } from "./dashboard.ts";

const origin = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;
/** How long after its expiry a link still names the account whose origins may frame its page. */
const framingGraceMs = 24 * 3600_000;

function embedToken(c: Context): string | null {
  return new URL(c.req.url).searchParams.get("embed_token");
}

/**
 * How `/embed/...` pages are served for signed embed links: only the link's account's `embed_origins`
 * may frame the page (CSP frame-ancestors), and a fresh link is exchanged — once — for a session the
 * page then uses. A page without a valid link may only be framed by cqa itself.
 */
export function embedPageOptions(deps: {
  db: Database;
  clock: Clock;
  masterKey: string;
}): Required<Pick<DashboardOptions, "embedFrameAncestors" | "embedSession">> {
  return {
    async embedFrameAncestors(c) {
      const token = embedToken(c);
      const claims = token ? readEmbedToken(deps.masterKey, token) : null;
      // A spent or lately expired link still names its account: reloading the frame keeps working
      // for the origins that account allows (the session lives in the page, not in the link).
      if (!claims || claims.expiresAt.getTime() < deps.clock.now().getTime() - framingGraceMs)
        return "'self'";
      const account = await getAccount(deps.db, claims.accountId);
      const allowed = (account?.embedOrigins ?? []).filter((o) => origin.test(o));
      return ["'self'", ...allowed].join(" ");
    },
    async embedSession(c) {
      const token = embedToken(c);
      if (!token) return null;
      let path: string;
      try {
        path = decodeURIComponent(new URL(c.req.url).pathname).slice("/embed".length) || "/";
      } catch {
        return null;
      }
      const session = await redeemEmbedToken(deps, token, path);
      return session
        ? JSON.stringify({
            token: session.token,
            account_id: session.accountId,
            user_id: session.userId,
            expires_at: session.expiresAt.toISOString(),
          })
        : null;
    },
  };
}
