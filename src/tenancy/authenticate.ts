import type { Clock } from "../core/clock.ts";
import { AppError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { apiKeyMatches, parseApiKey } from "../security/apiKeys.ts";
import { hashPassword, verifyPassword } from "../security/passwords.ts";
import { generateToken, hashToken } from "../security/tokens.ts";
import type { Database } from "../storage/db.ts";
import { findApiKeyByPrefix, type Role, touchApiKey } from "../storage/repositories/apiKeys.ts";
import { findSessionByTokenHash, insertSession } from "../storage/repositories/sessions.ts";
import {
  findUserByEmail,
  getUser,
  type MetadataScope,
  type UserRecord,
} from "../storage/repositories/users.ts";

/** Who is calling: an API key or a signed-in user, always of exactly one account. */
export type Principal =
  | { kind: "api_key"; id: string; accountId: string; role: Role; name: string }
  | {
      kind: "user";
      id: string;
      accountId: string;
      role: Role;
      email: string;
      metadataScope: MetadataScope;
      agentId: string | null;
      sessionId: string;
    };

/** A readable name for audit trails: `key:default` / `user:ana@example.com`. */
export function actorName(principal: Principal): string {
  return principal.kind === "api_key" ? `key:${principal.name}` : `user:${principal.email}`;
}

const cacheTtlMs = 10_000;
// Keyed by the hash of the whole key, so a cached entry never vouches for a different secret.
const keyCache = new Map<string, { principal: Principal; until: number; prefix: string }>();
const lastTouched = new Map<string, number>();

/** Drops a key from this process's cache at once (on revoke); other processes follow within 10 s. */
export function forgetApiKey(prefix: string): void {
  for (const [hash, entry] of keyCache) if (entry.prefix === prefix) keyCache.delete(hash);
}

const unauthorized = (message: string) => new AppError("UNAUTHORIZED", message);

/** Checks an `X-API-Key` value; throws UNAUTHORIZED saying what is wrong with it. */
export async function authenticateApiKey(db: Database, clock: Clock, key: string): Promise<Principal> {
  const parsed = parseApiKey(key.trim());
  if (!parsed) {
    throw unauthorized("The X-API-Key header does not hold a cqa API key (they look like cqa_xxxxxxxxxx_…)");
  }
  const cacheKey = hashToken(key.trim());
  const cached = keyCache.get(cacheKey);
  const now = clock.now().getTime();
  if (cached && cached.until > Date.now()) return cached.principal;
  const stored = await findApiKeyByPrefix(db, parsed.prefix);
  if (!stored || !apiKeyMatches(key.trim(), stored.secretHash)) throw unauthorized("Invalid API key");
  if (stored.revokedAt) throw unauthorized("This API key was revoked; use an active key of the account");
  const principal: Principal = {
    kind: "api_key",
    id: stored.id,
    accountId: stored.accountId,
    role: stored.role,
    name: stored.name,
  };
  keyCache.set(cacheKey, { principal, until: Date.now() + cacheTtlMs, prefix: parsed.prefix });
  if ((lastTouched.get(stored.id) ?? 0) < now - 60_000) {
    lastTouched.set(stored.id, now);
    await touchApiKey(db, stored.id, clock.now()).catch(() => {});
  }
  return principal;
}

/** Checks a session bearer token; throws UNAUTHORIZED when unknown, expired or revoked. */
export async function authenticateSession(db: Database, clock: Clock, token: string): Promise<Principal> {
  const session = await findSessionByTokenHash(db, hashToken(token));
  if (!session || session.revokedAt) throw unauthorized("Invalid or signed-out session; sign in again");
  if (session.expiresAt <= clock.now()) throw unauthorized("The session has expired; sign in again");
  const user = await getUser(db, session.accountId, session.userId);
  if (!user || user.disabledAt) throw unauthorized("This user is disabled");
  return userPrincipal(user, session.id);
}

function userPrincipal(user: UserRecord, sessionId: string): Principal {
  return {
    kind: "user",
    id: user.id,
    accountId: user.accountId,
    role: user.role,
    email: user.email,
    metadataScope: user.metadataScope,
    agentId: user.agentId,
    sessionId,
  };
}

let decoyHash: Promise<string> | null = null;
/** A hash of a random password, computed once, for sign-ins of users that cannot sign in. */
function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(generateToken());
  return decoyHash;
}

/** Signs a user in with email and password; the token is shown once. */
export async function signIn(
  deps: { db: Database; clock: Clock },
  input: { accountId: string; email: string; password: string; ttlMs?: number },
): Promise<{ token: string; expiresAt: Date; principal: Principal }> {
  const user = await findUserByEmail(deps.db, input.accountId, input.email);
  // The same answer for an unknown email and a wrong password, so accounts cannot be probed.
  // Unknown and disabled users are checked against a decoy hash, so a failure takes as long as a
  // wrong password and response times do not tell which e-mails exist.
  const usable = user && !user.disabledAt ? user : null;
  const matches = await verifyPassword(input.password, usable?.passwordHash ?? (await decoyPasswordHash()));
  const valid = usable !== null && matches;
  if (!user || !valid) throw unauthorized("Wrong email or password");
  const token = generateToken();
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + (input.ttlMs ?? 12 * 3600_000));
  const sessionId = newId();
  await insertSession(deps.db, {
    id: sessionId,
    accountId: user.accountId,
    userId: user.id,
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt,
  });
  return { token, expiresAt, principal: userPrincipal(user, sessionId) };
}
