import { newId } from "../../core/ids.ts";
import { hashPassword } from "../../security/passwords.ts";
import { generateToken, hashToken } from "../../security/tokens.ts";
import { type Role, roles } from "../../storage/repositories/apiKeys.ts";
import { getIntegrationById } from "../../storage/repositories/integrations.ts";
import { useRedirectNonce } from "../../storage/repositories/redirectNonces.ts";
import { insertSession } from "../../storage/repositories/sessions.ts";
import { findUserByEmail, insertUser, type UserRecord } from "../../storage/repositories/users.ts";
import { type ConnectorEnvironment, openConfig } from "../connectorContext.ts";
import type { ExoliteConfig } from "./config.ts";
import { RedirectRefused, readRedirectClaims, safeTargetPath, verifyRedirectToken } from "./redirectLink.ts";

/** How long a session started from the Exolite dashboard lasts (as a password sign-in). */
const sessionTtlMs = 12 * 3600_000;

/** A user signed in from an Exolite dashboard link. */
export interface ExoliteLaunch {
  sessionToken: string;
  expiresAt: Date;
  /** The dashboard path to land on. */
  target: string;
  accountId: string;
  userId: string;
  email: string;
  created: boolean;
}

/**
 * Checks a link of the Exolite dashboard's cqa button and signs its user in: the HMAC under the
 * Exolite integration's redirect secret, the expiry, and that the link was never used before (its
 * nonce is kept). The user is the account's user with the link's e-mail, created on first sign-in
 * when the integration says so. Throws RedirectRefused saying why a link is not accepted.
 */
export async function signInWithExoliteLink(
  env: ConnectorEnvironment,
  token: string,
): Promise<ExoliteLaunch> {
  const claims = readRedirectClaims(token);
  const integration = /^[0-9a-f-]{36}$/i.test(claims.int)
    ? await getIntegrationById(env.db, claims.int)
    : null;
  if (integration?.kind !== "exolite") {
    throw new RedirectRefused("not_configured", "The link names no Exolite integration of this cqa");
  }
  const config = openConfig(env, env.registry.require("exolite"), integration) as ExoliteConfig;
  if (!config.redirect || !integration.enabled) {
    throw new RedirectRefused(
      "not_configured",
      "Sign-in from the Exolite dashboard is not set up for this account (the integration has no redirect secret)",
    );
  }
  const now = env.clock.now();
  const verified = verifyRedirectToken(
    token,
    config.redirect.secret,
    now,
    config.redirect.max_link_age_seconds,
  );
  const email = verified.sub.trim().toLowerCase();
  const redirect = config.redirect;
  return env.db.transaction(async (tx) => {
    const fresh = await useRedirectNonce(tx, {
      integrationId: integration.id,
      nonce: verified.nonce,
      expiresAt: new Date(verified.exp * 1000),
      now,
    });
    if (!fresh) throw new RedirectRefused("replayed", "The link was used already; links work once");
    let user: UserRecord | null = await findUserByEmail(tx, integration.accountId, email);
    let created = false;
    if (user?.disabledAt) throw new RedirectRefused("unknown_user", `The cqa user ${email} is disabled`);
    if (!user) {
      if (!redirect.create_users) {
        throw new RedirectRefused(
          "unknown_user",
          `The account has no cqa user ${email}; an administrator can add one (or let the Exolite integration create users)`,
        );
      }
      const role: Role = roles.includes(verified.role as Role)
        ? (verified.role as Role)
        : redirect.default_role;
      user = {
        id: newId(),
        accountId: integration.accountId,
        email,
        displayName: verified.name?.slice(0, 200) ?? null,
        role,
        // No password: this user signs in through Exolite (an administrator can set one later).
        passwordHash: await hashPassword(generateToken()),
        metadataScope: {},
        agentId: null,
        createdAt: now,
        updatedAt: now,
        disabledAt: null,
      };
      await insertUser(tx, user);
      created = true;
    }
    const sessionToken = generateToken();
    const expiresAt = new Date(now.getTime() + sessionTtlMs);
    await insertSession(tx, {
      id: newId(),
      accountId: user.accountId,
      userId: user.id,
      tokenHash: hashToken(sessionToken),
      createdAt: now,
      expiresAt,
    });
    return {
      sessionToken,
      expiresAt,
      target: safeTargetPath(verified.target),
      accountId: user.accountId,
      userId: user.id,
      email: user.email,
      created,
    };
  });
}
