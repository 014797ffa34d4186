import type { Clock } from "../core/clock.ts";
import { AppError, describeError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { type IngestItemResult, ingestInteractions } from "../ingest/ingestInteractions.ts";
import type { FetchAllowList } from "../net/allowList.ts";
import { createSecretBox } from "../security/secretBox.ts";
import type { BlobStore } from "../storage/blob/blobStore.ts";
import type { Database, Queryable } from "../storage/db.ts";
import { getAccount } from "../storage/repositories/accounts.ts";
import {
  addRunCounts,
  type DeadLetterRecord,
  getIntegrationById,
  type IntegrationRecord,
  insertDeadLetters,
  recordDeadLetterRetry,
  saveCheckpoint,
  takeReplay,
  updateIntegrationHealth,
} from "../storage/repositories/integrations.ts";
import { findByExternalIds } from "../storage/repositories/interactions.ts";
import { getInboxEntry, listInboxFolder } from "../storage/repositories/sftpFiles.ts";
import { sourceObjectVersions } from "../storage/repositories/sourceObjects.ts";
import { joinSecrets } from "./configSecrets.ts";
import type {
  ConnectorContext,
  ConnectorInstance,
  ConnectorLog,
  SourceItem,
  UnreadableRecord,
} from "./connector.ts";
import type { AnyConnectorDefinition, ConnectorRegistry } from "./registry.ts";
import { interactionResultDocument } from "./resultDocument.ts";

/** What every connector of a process shares. */
export interface ConnectorEnvironment {
  db: Database;
  clock: Clock;
  allow: FetchAllowList;
  blobs: BlobStore;
  masterKey: string;
  registry: ConnectorRegistry;
  log: ConnectorLog;
  /** Wakes local workers after ingest. */
  onQueued?: () => void;
}

/** The stored config with its secrets opened, validated again by the kind's schema. */
export function openConfig(
  env: ConnectorEnvironment,
  definition: AnyConnectorDefinition,
  integration: IntegrationRecord,
): unknown {
  const secrets = integration.sealedSecrets
    ? (JSON.parse(createSecretBox(env.masterKey).open(integration.sealedSecrets)) as Record<string, unknown>)
    : {};
  const parsed = definition.configSchema.safeParse(joinSecrets(integration.config, secrets));
  if (!parsed.success) {
    throw new AppError(
      "CONFIG_INVALID",
      `The stored configuration of integration '${integration.name}' no longer validates (${parsed.error.issues
        .map((i) => i.message)
        .join("; ")}); edit the integration to fix it`,
    );
  }
  return parsed.data;
}

/** Builds the running connector of an integration. */
export async function instantiateConnector(
  env: ConnectorEnvironment,
  integration: IntegrationRecord,
): Promise<ConnectorInstance> {
  const definition = env.registry.require(integration.kind);
  const account = await getAccount(env.db, integration.accountId);
  const context = connectorContext(
    env,
    integration,
    openConfig(env, definition, integration),
    account?.timezone ?? "UTC",
  );
  return definition.create(context);
}

function connectorContext(
  env: ConnectorEnvironment,
  integration: IntegrationRecord,
  config: unknown,
  timezone: string,
): ConnectorContext<unknown, unknown> {
  const { db, clock } = env;
  const fields = { integration_id: integration.id, kind: integration.kind };
  return {
    integration: {
      id: integration.id,
      accountId: integration.accountId,
      name: integration.name,
      kind: integration.kind,
      configVersion: integration.configVersion,
      timezone,
    },
    config,
    clock,
    allow: env.allow,
    blobs: env.blobs,
    log: {
      warn: (message, extra) => env.log.warn(message, { ...fields, ...extra }),
      error: (message, extra) => env.log.error(message, { ...fields, ...extra }),
    },
    async readCheckpoint() {
      return (await getIntegrationById(db, integration.id))?.checkpoint ?? null;
    },
    async takeReplayRequest() {
      const replay = await takeReplay(db, integration.id);
      return replay
        ? {
            from: replay.from ? new Date(replay.from) : null,
            to: replay.to ? new Date(replay.to) : null,
            offsets: replay.offsets ?? null,
          }
        : null;
    },
    ingest: (records, options = {}) => ingestFromSource(env, integration, records, options),
    processedObjects: (keys) => sourceObjectVersions(db, integration.id, keys),
    resultDocument: (interactionId) => interactionResultDocument(db, integration.accountId, interactionId),
    async storedExternalIds(externalIds) {
      return new Set((await findByExternalIds(db, integration.accountId, [...externalIds])).keys());
    },
    inbox: {
      list: (folder) => listInboxFolder(db, integration.accountId, folder),
      get: (path) => getInboxEntry(db, integration.accountId, path),
    },
    async reportHealth(change) {
      const at = clock.now();
      await updateIntegrationHealth(db, integration.id, {
        ...(change.lag === undefined ? {} : { lag: change.lag }),
        ...(change.error === undefined
          ? {}
          : { lastError: change.error === null ? null : { message: change.error, at } }),
        ...(change.success ? { lastSuccessAt: at, lastRunAt: at } : {}),
      });
    },
  };
}

/**
 * The canonical ingest for a source: interactions, the checkpoint, the run's counters and a dead
 * letter for each record that was rejected or unreadable — one transaction.
 */
export async function ingestFromSource(
  env: ConnectorEnvironment,
  integration: IntegrationRecord,
  records: readonly SourceItem[],
  options: {
    runId?: string | null;
    checkpoint?: unknown;
    unreadable?: readonly UnreadableRecord[];
    seen?: number;
    inTransaction?: (tx: Queryable, results: IngestItemResult[]) => Promise<void>;
  },
): Promise<IngestItemResult[]> {
  const account = await getAccount(env.db, integration.accountId);
  if (!account)
    throw new AppError("NOT_FOUND", `The account of integration ${integration.id} no longer exists`);
  const unreadable = options.unreadable ?? [];
  return ingestInteractions(
    { db: env.db, clock: env.clock, ...(env.onQueued ? { onQueued: env.onQueued } : {}) },
    {
      account,
      items: records.map((r) => r.item),
      integrationId: integration.id,
      announce: true,
      inTransaction: async (tx, results) => {
        const now = env.clock.now();
        const letters: Parameters<typeof insertDeadLetters>[1] = unreadable.map((u) => ({
          id: newId(),
          integrationId: integration.id,
          accountId: integration.accountId,
          runId: options.runId ?? null,
          sourceRef: u.sourceRef,
          payload: u.raw,
          code: u.code,
          reason: u.reason,
        }));
        let ingested = 0;
        let duplicate = 0;
        for (const result of results) {
          if (result.status === "accepted") ingested++;
          else if (result.status === "duplicate") duplicate++;
          else {
            const record = records[result.index]!;
            letters.push({
              id: newId(),
              integrationId: integration.id,
              accountId: integration.accountId,
              runId: options.runId ?? null,
              sourceRef: record.sourceRef,
              payload: record.raw,
              code: result.code,
              reason: result.reason,
            });
          }
        }
        await insertDeadLetters(tx, letters, now);
        if (options.checkpoint !== undefined) await saveCheckpoint(tx, integration.id, options.checkpoint);
        if (options.runId) {
          await addRunCounts(tx, options.runId, {
            seen: options.seen ?? records.length + unreadable.length,
            ingested,
            duplicate,
            rejected: letters.length,
          });
        }
        await options.inTransaction?.(tx, results);
      },
    },
  );
}

/**
 * Tries a dead letter again through the canonical path (after the mapping or the peer was fixed). It
 * is resolved when its interaction exists (new or already there); otherwise it stays open with the
 * new reason. The outcome is recorded in the ingest transaction.
 */
export async function retryDeadLetter(
  env: ConnectorEnvironment,
  integration: IntegrationRecord,
  letter: DeadLetterRecord,
): Promise<IngestItemResult> {
  const instance = await instantiateConnector(env, integration);
  let item: unknown;
  try {
    item = instance.itemFromDeadLetter
      ? await instance.itemFromDeadLetter(letter.payload, letter.sourceRef)
      : JSON.parse(letter.payload);
  } catch (error) {
    const reason = `The record still cannot be read: ${describeError(error)}`;
    await recordDeadLetterRetry(env.db, letter.id, { code: "VALIDATION_ERROR", reason }, env.clock.now());
    throw new AppError("VALIDATION_ERROR", reason, { cause: error });
  }
  const account = await getAccount(env.db, integration.accountId);
  if (!account)
    throw new AppError("NOT_FOUND", `The account of integration ${integration.id} no longer exists`);
  const [result] = await ingestInteractions(
    { db: env.db, clock: env.clock, ...(env.onQueued ? { onQueued: env.onQueued } : {}) },
    {
      account,
      items: [item],
      integrationId: integration.id,
      announce: true,
      inTransaction: async (tx, [outcome]) => {
        await recordDeadLetterRetry(
          tx,
          letter.id,
          !outcome || outcome.status === "rejected"
            ? { code: outcome?.code ?? "VALIDATION_ERROR", reason: outcome?.reason ?? "not ingested" }
            : { interactionId: outcome.interactionId },
          env.clock.now(),
        );
      },
    },
  );
  return result!;
}
