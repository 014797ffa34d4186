import { starterProfileDefinition } from "../analysis/starterProfile.ts";
import type { Clock } from "../core/clock.ts";
import { newId } from "../core/ids.ts";
import type { LimitOverrides } from "../core/limits.ts";
import type { Database } from "../storage/db.ts";
import { type AccountRecord, insertAccount, updateAccount } from "../storage/repositories/accounts.ts";
import { insertProfile } from "../storage/repositories/profiles.ts";
import { insertRule } from "../storage/repositories/rules.ts";
import { type IssuedApiKey, issueApiKey } from "./apiKeys.ts";

export interface NewAccountInput {
  name: string;
  timezone?: string;
  limits?: LimitOverrides;
  webhooksEnabled?: boolean;
  embedOrigins?: string[];
}

export interface ProvisionedAccount {
  account: AccountRecord;
  apiKey: IssuedApiKey;
  starterProfileId: string;
  catchAllRuleId: string;
}

/**
 * Creates an account that works out of the box: an admin API key, the starter quality profile and a
 * catch-all assignment rule applying it, so the first conversation ingested is analysed without
 * any configuration.
 */
export async function provisionAccount(
  deps: { db: Database; clock: Clock; masterKey: string },
  input: NewAccountInput,
): Promise<ProvisionedAccount> {
  const at = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const account: AccountRecord = {
      id: newId(),
      name: input.name,
      timezone: input.timezone ?? "UTC",
      webhooksEnabled: input.webhooksEnabled ?? true,
      limits: input.limits ?? {},
      embedOrigins: input.embedOrigins ?? [],
      webhookSigningKeyId: null,
      createdAt: at,
      updatedAt: at,
    };
    await insertAccount(tx, account);
    const apiKey = await issueApiKey(tx, deps.masterKey, {
      accountId: account.id,
      name: "default",
      role: "admin",
      at,
    });
    const withKey = await updateAccount(tx, account.id, { webhookSigningKeyId: apiKey.record.id }, at);

    const starterProfileId = newId();
    await insertProfile(tx, {
      id: starterProfileId,
      accountId: account.id,
      definition: starterProfileDefinition(),
      createdBy: "system",
      at,
    });
    const catchAllRuleId = newId();
    await insertRule(tx, {
      id: catchAllRuleId,
      accountId: account.id,
      name: "All conversations",
      priority: 1000,
      enabled: true,
      conditions: { all: [] },
      profileIds: [starterProfileId],
      samplingPercent: 100,
      stopOnMatch: true,
      reviewer: null,
      createdAt: at,
      updatedAt: at,
    });
    return { account: withKey ?? account, apiKey, starterProfileId, catchAllRuleId };
  });
}
