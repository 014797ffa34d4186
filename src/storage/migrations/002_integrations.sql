-- Integrations: connectors to the systems a contact centre runs, their runs and dead letters.

CREATE TABLE integrations (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind text NOT NULL,
  name text NOT NULL,
  -- Settings without secrets; the secret fields are sealed apart (never returned, never logged).
  config jsonb NOT NULL,
  sealed_secrets text,
  config_version integer NOT NULL DEFAULT 1,
  schedule jsonb,
  enabled boolean NOT NULL DEFAULT true,
  paused boolean NOT NULL DEFAULT false,
  -- Where the source is up to (offset, cursor, processed keys): advanced only with stored data.
  checkpoint jsonb,
  -- A stream connector's pending replay (backfill) request, taken by the consumer when it restarts.
  replay jsonb,
  next_run_at timestamptz,
  last_run_at timestamptz,
  last_success_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  lag jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX integrations_account_name ON integrations (account_id, lower(name));
CREATE INDEX integrations_due ON integrations (next_run_at) WHERE enabled AND NOT paused;

CREATE TABLE integration_runs (
  id uuid PRIMARY KEY,
  integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  trigger text NOT NULL,
  status text NOT NULL,
  range_from timestamptz,
  range_to timestamptz,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  seen integer NOT NULL DEFAULT 0,
  ingested integer NOT NULL DEFAULT 0,
  duplicate integer NOT NULL DEFAULT 0,
  rejected integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  error text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX integration_runs_integration ON integration_runs (integration_id, started_at DESC);

CREATE TABLE dead_letters (
  id uuid PRIMARY KEY,
  integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  run_id uuid,
  -- Where the item came from in the source (topic/partition/offset, file and line, object key…).
  source_ref text NOT NULL,
  payload text NOT NULL,
  code text NOT NULL,
  reason text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  interaction_id uuid,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX dead_letters_integration ON dead_letters (integration_id, status, created_at DESC);
