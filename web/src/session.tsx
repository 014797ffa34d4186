// Who is signed in: the session cookie is HttpOnly, so the page asks cqa (GET /api/v1/auth/session)
// and keeps the user, role, permissions and CSRF token it answers.
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { ApiError, accountPath, api, onSessionLost, setBearerToken, setCsrfToken } from "./api/client.ts";
import type { Account, Permission, SessionInfo } from "./api/types.ts";

type State =
  | { status: "loading" }
  | { status: "signed_out"; notice: string | null }
  | { status: "signed_in"; info: SessionInfo; account: Account | null };

interface SessionValue {
  state: State;
  signIn(accountId: string, email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

const rememberedAccountKey = "cqa.account";

/** The account id last signed in to on this browser (not a secret; saves typing it again). */
export function rememberedAccount(): string {
  try {
    return window.localStorage.getItem(rememberedAccountKey) ?? "";
  } catch {
    return "";
  }
}

/** The session a signed embed link was exchanged for, as cqa handed it to this page. */
interface EmbedSession {
  token: string;
  account_id: string;
  user_id: string;
  expires_at: string;
}

const embedSessionKey = "cqa.embed-session";

/**
 * An embedded page opened by a signed link gets its session in a meta tag (cookies are not sent to
 * cross-site frames); it is kept for this tab, so reloading the frame keeps working until it expires.
 */
function embedSession(): EmbedSession | null {
  if (!window.location.pathname.startsWith("/embed")) return null;
  const parse = (text: string | null | undefined): EmbedSession | null => {
    try {
      const value = text ? (JSON.parse(text) as EmbedSession) : null;
      return value && typeof value.token === "string" && Date.parse(value.expires_at) > Date.now()
        ? value
        : null;
    } catch {
      return null;
    }
  };
  const handed = parse(document.querySelector('meta[name="cqa-embed-session"]')?.getAttribute("content"));
  try {
    if (handed) window.sessionStorage.setItem(embedSessionKey, JSON.stringify(handed));
    return handed ?? parse(window.sessionStorage.getItem(embedSessionKey));
  } catch {
    return handed;
  }
}

function forgetEmbedSession(): void {
  setBearerToken(null);
  try {
    window.sessionStorage.removeItem(embedSessionKey);
  } catch {
    // Nothing stored.
  }
}

/** Who the embed session belongs to, from the same API any bearer client uses. */
async function loadEmbedSession(embedded: EmbedSession): Promise<State | null> {
  setBearerToken(embedded.token);
  try {
    const [me, account] = await Promise.all([
      api<Omit<SessionInfo, "signed_in" | "csrf_token" | "display_name" | "account">>(
        "GET",
        accountPath(embedded.account_id, "/me"),
        { quietUnauthorized: true },
      ),
      api<Account>("GET", accountPath(embedded.account_id), { quietUnauthorized: true }).catch(() => null),
    ]);
    return {
      status: "signed_in",
      info: { ...me, signed_in: true, csrf_token: "", display_name: null, account },
      account,
    };
  } catch {
    forgetEmbedSession();
    return null;
  }
}

async function loadSession(): Promise<State> {
  const embedded = embedSession();
  if (embedded) {
    const state = await loadEmbedSession(embedded);
    if (state) return state;
  }
  const session = await api<SessionInfo | { signed_in: false }>("GET", "/api/v1/auth/session", {
    quietUnauthorized: true,
  });
  if (!session.signed_in) {
    const link = new URLSearchParams(window.location.search).has("embed_token");
    return {
      status: "signed_out",
      notice: link
        ? "This link has expired or was used already. Open the page again from the application it came from, or sign in."
        : null,
    };
  }
  setCsrfToken(session.csrf_token);
  return { status: "signed_in", info: session, account: session.account };
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: "loading" });

  useEffect(() => {
    let live = true;
    loadSession()
      .then((next) => live && setState(next))
      .catch(
        (error: unknown) =>
          live &&
          setState({
            status: "signed_out",
            notice: error instanceof ApiError ? error.message : "cqa could not be reached.",
          }),
      );
    onSessionLost(() => {
      setCsrfToken(null);
      forgetEmbedSession();
      setState({ status: "signed_out", notice: "Your session has ended. Sign in again to continue." });
    });
    return () => {
      live = false;
      onSessionLost(null);
    };
  }, []);

  const signIn = useCallback(async (accountId: string, email: string, password: string) => {
    await api("POST", "/api/v1/auth/login", {
      body: { account_id: accountId.trim(), email: email.trim(), password, cookie: true },
      quietUnauthorized: true,
    });
    try {
      window.localStorage.setItem(rememberedAccountKey, accountId.trim());
    } catch {
      // Private browsing: nothing to remember, nothing lost.
    }
    setState(await loadSession());
  }, []);

  const signOut = useCallback(async () => {
    if (state.status === "signed_in") {
      await api("POST", accountPath(state.info.account_id, "/auth/logout")).catch(() => undefined);
    }
    setCsrfToken(null);
    forgetEmbedSession();
    setState({ status: "signed_out", notice: "You are signed out." });
  }, [state]);

  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionState(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSessionState outside SessionProvider");
  return value;
}

export interface SignedIn {
  info: SessionInfo;
  account: Account | null;
  accountId: string;
  /** Path of the signed-in account's resource. */
  path(rest?: string): string;
  can(permission: Permission): boolean;
  timeZone: string;
}

/** The signed-in user; only for pages rendered once signed in. */
export function useSession(): SignedIn {
  const { state } = useSessionState();
  if (state.status !== "signed_in") throw new Error("useSession before sign-in");
  const { info, account } = state;
  return useMemo(
    () => ({
      info,
      account,
      accountId: info.account_id,
      path: (rest = "") => accountPath(info.account_id, rest),
      can: (permission: Permission) => info.permissions.includes(permission),
      timeZone: account?.timezone ?? "UTC",
    }),
    [info, account],
  );
}
