import { newId } from "../core/ids.ts";
import { generateApiKey } from "../security/apiKeys.ts";
import { deriveSecret } from "../security/secretBox.ts";
import type { Database, Queryable } from "../storage/db.ts";
import { getAccount } from "../storage/repositories/accounts.ts";
import { type ApiKeyRecord, insertApiKey, listApiKeys, type Role } from "../storage/repositories/apiKeys.ts";

/** A new API key: the key itself and its webhook signing secret are shown to the caller once. */
export interface IssuedApiKey {
  record: ApiKeyRecord;
  key: string;
  webhookSigningSecret: string;
}

/**
 * The secret that signs webhooks for a key. Derived from the server's master key and the key id, so
 * nothing secret is stored and the receiver can be given it once, at key creation.
 */
export function webhookSigningSecret(masterKey: string, apiKeyId: string): string {
  return deriveSecret(masterKey, `webhook-signing:${apiKeyId}`);
}

export async function issueApiKey(
  q: Queryable,
  masterKey: string,
  input: { accountId: string; name: string; role: Role; at: Date },
): Promise<IssuedApiKey> {
  const generated = generateApiKey();
  const record: ApiKeyRecord = {
    id: newId(),
    accountId: input.accountId,
    name: input.name,
    prefix: generated.prefix,
    secretHash: generated.secretHash,
    role: input.role,
    createdAt: input.at,
    revokedAt: null,
    lastUsedAt: null,
  };
  await insertApiKey(q, record);
  return { record, key: generated.key, webhookSigningSecret: webhookSigningSecret(masterKey, record.id) };
}

/**
 * The key whose secret signs an account's webhooks: the one chosen for the account while it is
 * active, else the newest active key (so revoking a key never silences webhooks).
 */
export async function signingKeyOf(q: Queryable, accountId: string): Promise<ApiKeyRecord | null> {
  const account = await getAccount(q, accountId);
  if (!account) return null;
  const active = (await listApiKeys(q, accountId)).filter((k) => k.revokedAt === null);
  return active.find((k) => k.id === account.webhookSigningKeyId) ?? active.at(-1) ?? null;
}

/** Looks up signing secrets for the webhook dispatcher, with a short cache (keys rarely change). */
export function signingSecretLookup(db: Database, masterKey: string, ttlMs = 5_000) {
  const cache = new Map<string, { secret: string | null; until: number }>();
  return async (accountId: string): Promise<string | null> => {
    const hit = cache.get(accountId);
    if (hit && hit.until > Date.now()) return hit.secret;
    const key = await signingKeyOf(db, accountId);
    const secret = key ? webhookSigningSecret(masterKey, key.id) : null;
    cache.set(accountId, { secret, until: Date.now() + ttlMs });
    return secret;
  };
}
