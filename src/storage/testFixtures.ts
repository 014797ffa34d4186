// Rows for storage tests: small, valid, and unique per call so tests sharing one database never
// collide. Only storage and core are used here, so any layer's tests can seed with it.
import { randomBytes } from "node:crypto";
import { newId } from "../core/ids.ts";
import type { ProfileDefinition } from "../core/qualityProfile.ts";
import type { Queryable } from "./db.ts";
import { type AccountRecord, insertAccount } from "./repositories/accounts.ts";
import type { NewInteraction } from "./repositories/interactions.ts";
import { insertProfile } from "./repositories/profiles.ts";

/** A fixed instant for tests that do not care about the time. */
export const fixedNow = new Date("2026-03-02T10:00:00.000Z");

/** A short random suffix for names and external ids. */
export function unique(prefix = ""): string {
  return `${prefix}${randomBytes(4).toString("hex")}`;
}

/** Stores and returns a new account (unlimited conversations unless `limits` says otherwise). */
export async function seedAccount(
  q: Queryable,
  changes: Partial<AccountRecord> = {},
): Promise<AccountRecord> {
  const account: AccountRecord = {
    id: newId(),
    name: unique("Account "),
    timezone: "UTC",
    webhooksEnabled: true,
    limits: { conversation_cap: "unlimited" },
    embedOrigins: [],
    webhookSigningKeyId: null,
    createdAt: fixedNow,
    updatedAt: fixedNow,
    ...changes,
  };
  await insertAccount(q, account);
  return account;
}

/** A one-KPI profile definition; enough for storage, not meant to score anything. */
export function profileDefinition(name = unique("Profile ")): ProfileDefinition {
  return { name, categories: [] };
}

/** Stores a profile at version 1 and returns its id. */
export async function seedProfile(q: Queryable, accountId: string, name?: string): Promise<string> {
  const id = newId();
  await insertProfile(q, {
    id,
    accountId,
    definition: profileDefinition(name),
    createdBy: "test",
    at: fixedNow,
  });
  return id;
}

/** The fields of a new chat interaction of `accountId`. */
export function newInteraction(accountId: string, changes: Partial<NewInteraction> = {}): NewInteraction {
  return {
    id: newId(),
    accountId,
    externalInteractionId: unique("ext-"),
    batchId: null,
    integrationId: null,
    channelType: "CHAT",
    source: "web-chat",
    language: "en",
    interactionStartTime: null,
    durationSeconds: 60,
    audioFormat: null,
    callbackUrl: null,
    audioUrl: null,
    transcriptUrl: null,
    transcriptText: "Agent: Hello\nCustomer: Hi",
    piiRedacted: false,
    metadata: {},
    contentHash: unique("hash-"),
    media: {},
    createdAt: fixedNow,
    ...changes,
  };
}
