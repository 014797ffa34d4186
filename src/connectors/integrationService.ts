import { z } from "zod";
import { AppError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { createSecretBox } from "../security/secretBox.ts";
import { sqlStateOf } from "../storage/db.ts";
import type { AccountRecord } from "../storage/repositories/accounts.ts";
import {
  type IntegrationRecord,
  insertIntegration,
  type RunRecord,
  updateIntegrationSettings,
} from "../storage/repositories/integrations.ts";
import { describeIssues } from "../validation/validate.ts";
import { keepUnchangedSecrets, maskedConfig, splitSecrets } from "./configSecrets.ts";
import type { ConnectionCheck, ReplayOffsets, Schedule } from "./connector.ts";
import { type ConnectorEnvironment, instantiateConnector } from "./connectorContext.ts";
import type { AnyConnectorDefinition } from "./registry.ts";
import { nextRunAfter, scheduleSchema } from "./schedule.ts";

/** The body of POST / PUT `/integrations`. */
export const integrationInputSchema = z.object({
  kind: z.string({ error: (i) => (i.input === undefined ? "kind is required" : "kind must be a string") }),
  name: z
    .string({ error: (i) => (i.input === undefined ? "name is required" : "name must be a string") })
    .trim()
    .min(1, { error: "name must not be empty" })
    .max(200),
  config: z.record(z.string(), z.unknown(), {
    error: "config must be an object (see GET /api/v1/connector-kinds)",
  }),
  schedule: scheduleSchema.optional(),
  enabled: z.boolean().optional(),
});

export type IntegrationInput = z.output<typeof integrationInputSchema>;

/** Validates a config against its kind's schema; every problem is reported with its `config.` path. */
export function validateConfig(definition: AnyConnectorDefinition, config: unknown): Record<string, unknown> {
  const result = definition.configSchema.safeParse(config, { reportInput: true });
  if (result.success) return result.data as Record<string, unknown>;
  const problems = describeIssues(result.error.issues).map((p) =>
    p.startsWith("The request body") ? p : `config.${p}`,
  );
  throw new AppError("VALIDATION_ERROR", `Invalid ${definition.kind} configuration: ${problems.join("; ")}`, {
    details: { problems },
  });
}

function sealed(env: ConnectorEnvironment, secrets: Record<string, unknown>): string | null {
  return Object.keys(secrets).length === 0
    ? null
    : createSecretBox(env.masterKey).seal(JSON.stringify(secrets));
}

function storedSecrets(env: ConnectorEnvironment, integration: IntegrationRecord): Record<string, unknown> {
  return integration.sealedSecrets
    ? (JSON.parse(createSecretBox(env.masterKey).open(integration.sealedSecrets)) as Record<string, unknown>)
    : {};
}

function scheduleFor(definition: AnyConnectorDefinition, input: IntegrationInput): Schedule | null {
  if (definition.mode === "stream") {
    if (input.schedule)
      throw new AppError(
        "VALIDATION_ERROR",
        `${definition.kind} integrations stream continuously: leave schedule out`,
      );
    return null;
  }
  return input.schedule === undefined ? (definition.defaultSchedule ?? null) : input.schedule;
}

function duplicateName(error: unknown, name: string): unknown {
  return sqlStateOf(error) === "23505"
    ? new AppError(
        "DUPLICATE",
        `An integration named '${name}' exists already in this account; choose another name`,
      )
    : error;
}

/** Creates an integration; secrets are sealed apart from the rest of the config. */
export async function createIntegration(
  env: ConnectorEnvironment,
  account: AccountRecord,
  input: IntegrationInput,
): Promise<IntegrationRecord> {
  const definition = env.registry.require(input.kind);
  const config = validateConfig(definition, input.config);
  const { publicConfig, secrets } = splitSecrets(config, definition.secretFields);
  const schedule = scheduleFor(definition, input);
  const now = env.clock.now();
  const integration: IntegrationRecord = {
    id: newId(),
    accountId: account.id,
    kind: definition.kind,
    name: input.name,
    config: publicConfig,
    sealedSecrets: sealed(env, secrets),
    configVersion: 1,
    schedule,
    enabled: input.enabled ?? true,
    paused: false,
    checkpoint: null,
    nextRunAt: nextRunAfter(schedule, now, account.timezone),
    lastRunAt: null,
    lastSuccessAt: null,
    lastError: null,
    lastErrorAt: null,
    lag: null,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await insertIntegration(env.db, integration);
  } catch (error) {
    throw duplicateName(error, input.name);
  }
  return integration;
}

/** Replaces an integration's settings (PUT). Secrets left out or sent back masked are kept. */
export async function replaceIntegration(
  env: ConnectorEnvironment,
  account: AccountRecord,
  current: IntegrationRecord,
  input: IntegrationInput,
): Promise<IntegrationRecord> {
  if (input.kind !== current.kind) {
    throw new AppError(
      "VALIDATION_ERROR",
      `kind cannot change (this integration is ${current.kind}); create a new integration`,
    );
  }
  const definition = env.registry.require(current.kind);
  const withSecrets = keepUnchangedSecrets(
    input.config,
    storedSecrets(env, current),
    definition.secretFields,
  );
  const config = validateConfig(definition, withSecrets);
  const { publicConfig, secrets } = splitSecrets(config, definition.secretFields);
  const schedule = scheduleFor(definition, input);
  const now = env.clock.now();
  try {
    const updated = await updateIntegrationSettings(
      env.db,
      account.id,
      current.id,
      {
        name: input.name,
        config: publicConfig,
        sealedSecrets: sealed(env, secrets),
        schedule,
        enabled: input.enabled ?? current.enabled,
        paused: current.paused,
        nextRunAt: nextRunAfter(schedule, now, account.timezone),
      },
      now,
    );
    if (!updated) throw new AppError("NOT_FOUND", `No integration '${current.id}' in this account`);
    return updated;
  } catch (error) {
    throw duplicateName(error, input.name);
  }
}

/** "Test connection": the connector's own checks, bounded in time; never throws for the peer's faults. */
export async function testIntegration(
  env: ConnectorEnvironment,
  integration: IntegrationRecord,
): Promise<ConnectionCheck[]> {
  let instance: Awaited<ReturnType<typeof instantiateConnector>>;
  try {
    instance = await instantiateConnector(env, integration);
  } catch (error) {
    return [
      { name: "configuration", ok: false, message: error instanceof Error ? error.message : String(error) },
    ];
  }
  const timeout = new Promise<ConnectionCheck[]>((resolve) =>
    setTimeout(
      () =>
        resolve([
          {
            name: "reach",
            ok: false,
            message: "The test did not finish within 30 s: the peer does not answer",
          },
        ]),
      30_000,
    ).unref(),
  );
  try {
    return await Promise.race([instance.test(), timeout]);
  } finally {
    await instance.stop?.().catch(() => {});
  }
}

/**
 * Checks a replay from positions (`POST …/run {offsets}`) with the integration's connector, against
 * the source itself; throws a VALIDATION_ERROR that names each problem.
 */
export async function checkReplayOffsets(
  env: ConnectorEnvironment,
  integration: IntegrationRecord,
  offsets: ReplayOffsets,
): Promise<void> {
  const instance = await instantiateConnector(env, integration);
  try {
    if (!instance.checkReplayOffsets) {
      throw new AppError(
        "VALIDATION_ERROR",
        `${integration.kind} integrations replay from a time only: send {from} instead of {offsets}`,
      );
    }
    await instance.checkReplayOffsets(offsets);
  } finally {
    await instance.stop?.().catch(() => {});
  }
}

/** The integration as the API shows it: config with secrets masked, schedule, state. */
export function presentIntegration(
  env: ConnectorEnvironment,
  integration: IntegrationRecord,
): Record<string, unknown> {
  const secrets = storedSecrets(env, integration);
  const definition = env.registry.get(integration.kind);
  return {
    integration_id: integration.id,
    kind: integration.kind,
    mode: definition?.mode ?? null,
    name: integration.name,
    config: maskedConfig(integration.config, secrets),
    secret_fields_set: Object.keys(secrets),
    schedule: integration.schedule ?? null,
    enabled: integration.enabled,
    paused: integration.paused,
    config_version: integration.configVersion,
    next_run_at: integration.nextRunAt?.toISOString() ?? null,
    created_at: integration.createdAt.toISOString(),
    updated_at: integration.updatedAt.toISOString(),
  };
}

/** `running` / `idle` / `paused` / `failing`, with the health the status endpoint shows. */
export function integrationStatus(
  env: ConnectorEnvironment,
  integration: IntegrationRecord,
  latestRun: RunRecord | null,
): Record<string, unknown> {
  const mode = env.registry.get(integration.kind)?.mode;
  const failing =
    integration.lastErrorAt !== null &&
    (integration.lastSuccessAt === null ||
      integration.lastErrorAt.getTime() > integration.lastSuccessAt.getTime());
  const state =
    !integration.enabled || integration.paused
      ? "paused"
      : failing
        ? "failing"
        : mode === "stream" || latestRun?.status === "running"
          ? "running"
          : "idle";
  return {
    integration_id: integration.id,
    state,
    enabled: integration.enabled,
    paused: integration.paused,
    last_run_at: integration.lastRunAt?.toISOString() ?? null,
    last_success_at: integration.lastSuccessAt?.toISOString() ?? null,
    last_error: failing ? integration.lastError : null,
    last_error_at: integration.lastErrorAt?.toISOString() ?? null,
    lag: integration.lag ?? null,
    next_run_at: integration.nextRunAt?.toISOString() ?? null,
    checkpoint: integration.checkpoint ?? null,
    latest_run: latestRun ? presentRun(latestRun) : null,
  };
}

export function presentRun(run: RunRecord): Record<string, unknown> {
  return {
    run_id: run.id,
    trigger: run.trigger,
    status: run.status,
    from: run.rangeFrom?.toISOString() ?? null,
    to: run.rangeTo?.toISOString() ?? null,
    started_at: run.startedAt.toISOString(),
    finished_at: run.finishedAt?.toISOString() ?? null,
    seen: run.seen,
    ingested: run.ingested,
    duplicate: run.duplicate,
    rejected: run.rejected,
    failed: run.failed,
    error: run.error,
    details: run.details,
  };
}
