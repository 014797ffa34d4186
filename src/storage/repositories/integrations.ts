import type { Queryable } from "../db.ts";

/** One configured connector of an account. */
export interface IntegrationRecord {
  id: string;
  accountId: string;
  kind: string;
  name: string;
  /** Settings without the secret fields. */
  config: Record<string, unknown>;
  /** The secret fields, sealed (see security/secretBox); null when the kind has none set. */
  sealedSecrets: string | null;
  configVersion: number;
  schedule: unknown;
  enabled: boolean;
  paused: boolean;
  checkpoint: unknown;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  lag: unknown;
  createdAt: Date;
  updatedAt: Date;
}

interface IntegrationRow {
  id: string;
  account_id: string;
  kind: string;
  name: string;
  config: Record<string, unknown>;
  sealed_secrets: string | null;
  config_version: number;
  schedule: unknown;
  enabled: boolean;
  paused: boolean;
  checkpoint: unknown;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_success_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  lag: unknown;
  created_at: Date;
  updated_at: Date;
}

const columns = `id, account_id, kind, name, config, sealed_secrets, config_version, schedule, enabled, paused,
  checkpoint, next_run_at, last_run_at, last_success_at, last_error, last_error_at, lag, created_at, updated_at`;

function toRecord(row: IntegrationRow): IntegrationRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    kind: row.kind,
    name: row.name,
    config: row.config ?? {},
    sealedSecrets: row.sealed_secrets,
    configVersion: row.config_version,
    schedule: row.schedule,
    enabled: row.enabled,
    paused: row.paused,
    checkpoint: row.checkpoint,
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    lastSuccessAt: row.last_success_at,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at,
    lag: row.lag,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

export async function insertIntegration(q: Queryable, integration: IntegrationRecord): Promise<void> {
  await q.query(
    `INSERT INTO integrations (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
       $15, $16, $17, $18, $19)`,
    [
      integration.id,
      integration.accountId,
      integration.kind,
      integration.name,
      JSON.stringify(integration.config),
      integration.sealedSecrets,
      integration.configVersion,
      json(integration.schedule),
      integration.enabled,
      integration.paused,
      json(integration.checkpoint),
      integration.nextRunAt,
      integration.lastRunAt,
      integration.lastSuccessAt,
      integration.lastError,
      integration.lastErrorAt,
      json(integration.lag),
      integration.createdAt,
      integration.updatedAt,
    ],
  );
}

export async function getIntegration(
  q: Queryable,
  accountId: string,
  id: string,
): Promise<IntegrationRecord | null> {
  const result = await q.query<IntegrationRow>(
    `SELECT ${columns} FROM integrations WHERE account_id = $1 AND id = $2`,
    [accountId, id],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

/** By id alone, for workers (which act for every account). */
export async function getIntegrationById(q: Queryable, id: string): Promise<IntegrationRecord | null> {
  const result = await q.query<IntegrationRow>(`SELECT ${columns} FROM integrations WHERE id = $1`, [id]);
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function lockIntegration(q: Queryable, id: string): Promise<IntegrationRecord | null> {
  const result = await q.query<IntegrationRow>(
    `SELECT ${columns} FROM integrations WHERE id = $1 FOR UPDATE`,
    [id],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function listIntegrations(q: Queryable, accountId: string): Promise<IntegrationRecord[]> {
  const result = await q.query<IntegrationRow>(
    `SELECT ${columns} FROM integrations WHERE account_id = $1 ORDER BY created_at, id`,
    [accountId],
  );
  return result.rows.map(toRecord);
}

/** Every integration of every account that should be running (for the supervisor). */
export async function listActiveIntegrations(q: Queryable): Promise<IntegrationRecord[]> {
  const result = await q.query<IntegrationRow>(
    `SELECT ${columns} FROM integrations WHERE enabled AND NOT paused ORDER BY created_at, id`,
  );
  return result.rows.map(toRecord);
}

export type IntegrationSettings = Pick<
  IntegrationRecord,
  "name" | "config" | "sealedSecrets" | "schedule" | "enabled" | "paused" | "nextRunAt"
>;

/** Replaces the settings and bumps the config version. */
export async function updateIntegrationSettings(
  q: Queryable,
  accountId: string,
  id: string,
  settings: IntegrationSettings,
  at: Date,
): Promise<IntegrationRecord | null> {
  const result = await q.query<IntegrationRow>(
    `UPDATE integrations SET name = $3, config = $4, sealed_secrets = $5, schedule = $6, enabled = $7, paused = $8,
       next_run_at = $9, config_version = config_version + 1, updated_at = $10
     WHERE account_id = $1 AND id = $2 RETURNING ${columns}`,
    [
      accountId,
      id,
      settings.name,
      JSON.stringify(settings.config),
      settings.sealedSecrets,
      json(settings.schedule),
      settings.enabled,
      settings.paused,
      settings.nextRunAt,
      at,
    ],
  );
  const row = result.rows[0];
  return row ? toRecord(row) : null;
}

export async function setIntegrationPaused(
  q: Queryable,
  accountId: string,
  id: string,
  paused: boolean,
  at: Date,
): Promise<boolean> {
  const result = await q.query(
    "UPDATE integrations SET paused = $3, updated_at = $4 WHERE account_id = $1 AND id = $2",
    [accountId, id, paused, at],
  );
  return result.rowCount > 0;
}

export async function deleteIntegration(q: Queryable, accountId: string, id: string): Promise<boolean> {
  const result = await q.query("DELETE FROM integrations WHERE account_id = $1 AND id = $2", [accountId, id]);
  return result.rowCount > 0;
}

/** Saves the source position; call in the transaction that stored the data it covers. */
export async function saveCheckpoint(q: Queryable, id: string, checkpoint: unknown): Promise<void> {
  await q.query("UPDATE integrations SET checkpoint = $2 WHERE id = $1", [id, json(checkpoint)]);
}

export interface HealthChange {
  lastRunAt?: Date;
  lastSuccessAt?: Date;
  /** Set a new last error (with its time), or clear it with null. */
  lastError?: { message: string; at: Date } | null;
  lag?: unknown;
  nextRunAt?: Date | null;
}

export async function updateIntegrationHealth(q: Queryable, id: string, change: HealthChange): Promise<void> {
  const sets: string[] = [];
  const params: unknown[] = [id];
  const set = (column: string, value: unknown, cast = "") => {
    params.push(value);
    sets.push(`${column} = $${params.length}${cast}`);
  };
  if (change.lastRunAt !== undefined) set("last_run_at", change.lastRunAt);
  if (change.lastSuccessAt !== undefined) set("last_success_at", change.lastSuccessAt);
  if (change.lastError !== undefined) {
    set("last_error", change.lastError?.message ?? null);
    set("last_error_at", change.lastError?.at ?? null);
  }
  if (change.lag !== undefined) set("lag", json(change.lag), "::jsonb");
  if (change.nextRunAt !== undefined) set("next_run_at", change.nextRunAt);
  if (sets.length === 0) return;
  await q.query(`UPDATE integrations SET ${sets.join(", ")} WHERE id = $1`, params);
}

/** One run of an integration (a scheduled or manual poll, a backfill, a stream session). */
export interface RunRecord {
  id: string;
  integrationId: string;
  accountId: string;
  trigger: "schedule" | "manual" | "backfill" | "stream" | "event";
  status: "running" | "succeeded" | "failed";
  rangeFrom: Date | null;
  rangeTo: Date | null;
  startedAt: Date;
  finishedAt: Date | null;
  seen: number;
  ingested: number;
  duplicate: number;
  rejected: number;
  failed: number;
  error: string | null;
  details: Record<string, unknown>;
}

interface RunRow {
  id: string;
  integration_id: string;
  account_id: string;
  trigger: RunRecord["trigger"];
  status: RunRecord["status"];
  range_from: Date | null;
  range_to: Date | null;
  started_at: Date;
  finished_at: Date | null;
  seen: number;
  ingested: number;
  duplicate: number;
  rejected: number;
  failed: number;
  error: string | null;
  details: Record<string, unknown>;
}

const runColumns = `id, integration_id, account_id, trigger, status, range_from, range_to, started_at, finished_at, seen,
  ingested, duplicate, rejected, failed, error, details`;

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    integrationId: row.integration_id,
    accountId: row.account_id,
    trigger: row.trigger,
    status: row.status,
    rangeFrom: row.range_from,
    rangeTo: row.range_to,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    seen: row.seen,
    ingested: row.ingested,
    duplicate: row.duplicate,
    rejected: row.rejected,
    failed: row.failed,
    error: row.error,
    details: row.details ?? {},
  };
}

/** Starts a run, or returns the one with this id if it exists (a re-run job continues its run). */
export async function startRun(
  q: Queryable,
  run: Pick<
    RunRecord,
    "id" | "integrationId" | "accountId" | "trigger" | "rangeFrom" | "rangeTo" | "startedAt"
  >,
): Promise<RunRecord> {
  await q.query(
    `INSERT INTO integration_runs (id, integration_id, account_id, trigger, status, range_from, range_to, started_at)
     VALUES ($1, $2, $3, $4, 'running', $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
    [run.id, run.integrationId, run.accountId, run.trigger, run.rangeFrom, run.rangeTo, run.startedAt],
  );
  const result = await q.query<RunRow>(`SELECT ${runColumns} FROM integration_runs WHERE id = $1`, [run.id]);
  return toRun(result.rows[0]!);
}

export interface RunCounts {
  seen?: number;
  ingested?: number;
  duplicate?: number;
  rejected?: number;
  failed?: number;
}

/** Adds to a run's counters (in the transaction that stored what they count). */
export async function addRunCounts(q: Queryable, runId: string, counts: RunCounts): Promise<void> {
  await q.query(
    `UPDATE integration_runs SET seen = seen + $2, ingested = ingested + $3, duplicate = duplicate + $4,
       rejected = rejected + $5, failed = failed + $6 WHERE id = $1`,
    [
      runId,
      counts.seen ?? 0,
      counts.ingested ?? 0,
      counts.duplicate ?? 0,
      counts.rejected ?? 0,
      counts.failed ?? 0,
    ],
  );
}

export async function finishRun(
  q: Queryable,
  runId: string,
  outcome: {
    status: "succeeded" | "failed";
    error?: string | null;
    details?: Record<string, unknown>;
    at: Date;
  },
): Promise<void> {
  await q.query(
    `UPDATE integration_runs SET status = $2, error = $3, details = details || $4::jsonb, finished_at = $5
     WHERE id = $1`,
    [runId, outcome.status, outcome.error ?? null, JSON.stringify(outcome.details ?? {}), outcome.at],
  );
}

export async function getRun(q: Queryable, runId: string): Promise<RunRecord | null> {
  const result = await q.query<RunRow>(`SELECT ${runColumns} FROM integration_runs WHERE id = $1`, [runId]);
  const row = result.rows[0];
  return row ? toRun(row) : null;
}

export async function listRuns(
  q: Queryable,
  accountId: string,
  integrationId: string,
  limit: number,
  offset: number,
): Promise<{ rows: RunRecord[]; total: number }> {
  const [page, count] = await Promise.all([
    q.query<RunRow>(
      `SELECT ${runColumns} FROM integration_runs WHERE account_id = $1 AND integration_id = $2
       ORDER BY started_at DESC, id DESC LIMIT $3 OFFSET $4`,
      [accountId, integrationId, limit, offset],
    ),
    q.query<{ total: number }>(
      "SELECT count(*)::int AS total FROM integration_runs WHERE account_id = $1 AND integration_id = $2",
      [accountId, integrationId],
    ),
  ]);
  return { rows: page.rows.map(toRun), total: count.rows[0]?.total ?? 0 };
}

/** Marks runs of an integration left `running` by a process that died as failed. */
export async function failAbandonedRuns(
  q: Queryable,
  integrationId: string,
  except: string | null,
  at: Date,
): Promise<void> {
  await q.query(
    `UPDATE integration_runs SET status = 'failed', error = COALESCE(error, 'The process running it stopped'),
       finished_at = $3
     WHERE integration_id = $1 AND status = 'running' AND ($2::uuid IS NULL OR id <> $2::uuid)`,
    [integrationId, except, at],
  );
}

export type DeadLetterStatus = "open" | "retried" | "discarded";

/** An item a source gave that could not be ingested, kept with its payload and the reason. */
export interface DeadLetterRecord {
  id: string;
  integrationId: string;
  accountId: string;
  runId: string | null;
  sourceRef: string;
  payload: string;
  code: string;
  reason: string;
  status: DeadLetterStatus;
  attempts: number;
  interactionId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface DeadLetterRow {
  id: string;
  integration_id: string;
  account_id: string;
  run_id: string | null;
  source_ref: string;
  payload: string;
  code: string;
  reason: string;
  status: DeadLetterStatus;
  attempts: number;
  interaction_id: string | null;
  created_at: Date;
  updated_at: Date;
}

const deadLetterColumns = `id, integration_id, account_id, run_id, source_ref, payload, code, reason, status, attempts,
  interaction_id, created_at, updated_at`;

function toDeadLetter(row: DeadLetterRow): DeadLetterRecord {
  return {
    id: row.id,
    integrationId: row.integration_id,
    accountId: row.account_id,
    runId: row.run_id,
    sourceRef: row.source_ref,
    payload: row.payload,
    code: row.code,
    reason: row.reason,
    status: row.status,
    attempts: row.attempts,
    interactionId: row.interaction_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertDeadLetters(
  q: Queryable,
  letters: Pick<
    DeadLetterRecord,
    "id" | "integrationId" | "accountId" | "runId" | "sourceRef" | "payload" | "code" | "reason"
  >[],
  at: Date,
): Promise<void> {
  if (letters.length === 0) return;
  await q.query(
    `INSERT INTO dead_letters (id, integration_id, account_id, run_id, source_ref, payload, code, reason, status,
       attempts, created_at, updated_at)
     SELECT id, integration_id, account_id, run_id, source_ref, payload, code, reason, 'open', 0, $2, $2
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, integration_id uuid, account_id uuid, run_id uuid,
       source_ref text, payload text, code text, reason text)`,
    [
      JSON.stringify(
        letters.map((l) => ({
          id: l.id,
          integration_id: l.integrationId,
          account_id: l.accountId,
          run_id: l.runId,
          source_ref: l.sourceRef,
          payload: l.payload,
          code: l.code,
          reason: l.reason,
        })),
      ),
      at,
    ],
  );
}

export async function getDeadLetter(
  q: Queryable,
  accountId: string,
  integrationId: string,
  id: string,
): Promise<DeadLetterRecord | null> {
  const result = await q.query<DeadLetterRow>(
    `SELECT ${deadLetterColumns} FROM dead_letters WHERE account_id = $1 AND integration_id = $2 AND id = $3`,
    [accountId, integrationId, id],
  );
  const row = result.rows[0];
  return row ? toDeadLetter(row) : null;
}

export async function listDeadLetters(
  q: Queryable,
  accountId: string,
  integrationId: string,
  options: { status?: DeadLetterStatus; limit: number; offset: number },
): Promise<{ rows: DeadLetterRecord[]; total: number }> {
  const where = "account_id = $1 AND integration_id = $2 AND ($3::text IS NULL OR status = $3)";
  const params = [accountId, integrationId, options.status ?? null];
  const [page, count] = await Promise.all([
    q.query<DeadLetterRow>(
      `SELECT ${deadLetterColumns} FROM dead_letters WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5`,
      [...params, options.limit, options.offset],
    ),
    q.query<{ total: number }>(`SELECT count(*)::int AS total FROM dead_letters WHERE ${where}`, params),
  ]);
  return { rows: page.rows.map(toDeadLetter), total: count.rows[0]?.total ?? 0 };
}

/** Records a retry of a dead letter: resolved with its interaction, or still open with the new reason. */
export async function recordDeadLetterRetry(
  q: Queryable,
  id: string,
  outcome: { interactionId: string } | { code: string; reason: string },
  at: Date,
): Promise<void> {
  if ("interactionId" in outcome) {
    await q.query(
      `UPDATE dead_letters SET status = 'retried', attempts = attempts + 1, interaction_id = $2, updated_at = $3
       WHERE id = $1`,
      [id, outcome.interactionId, at],
    );
  } else {
    await q.query(
      "UPDATE dead_letters SET attempts = attempts + 1, code = $2, reason = $3, updated_at = $4 WHERE id = $1",
      [id, outcome.code, outcome.reason, at],
    );
  }
}

/**
 * A pending replay of a stream integration: from a time (`from`), or from positions in the source
 * (`offsets`: Kafka offsets by topic, then partition).
 */
export interface ReplayRequest {
  from: string | null;
  to: string | null;
  offsets?: Record<string, Record<string, number>> | null;
  requested_at: string;
}

/** Asks a stream integration to replay from `from` (to `to`) or `offsets`: stored, and the consumer restarts. */
export async function requestReplay(
  q: Queryable,
  accountId: string,
  id: string,
  replay: ReplayRequest,
  at: Date,
): Promise<boolean> {
  const result = await q.query(
    `UPDATE integrations SET replay = $3, config_version = config_version + 1, updated_at = $4
     WHERE account_id = $1 AND id = $2`,
    [accountId, id, JSON.stringify(replay), at],
  );
  return result.rowCount > 0;
}

/** Takes (reads and clears) the pending replay request of a stream integration. */
export async function takeReplay(q: Queryable, id: string): Promise<ReplayRequest | null> {
  const result = await q.query<{ replay: ReplayRequest | null }>(
    `UPDATE integrations i SET replay = NULL FROM (SELECT replay FROM integrations WHERE id = $1 FOR UPDATE) old
     WHERE i.id = $1 RETURNING old.replay`,
    [id],
  );
  return result.rows[0]?.replay ?? null;
}
