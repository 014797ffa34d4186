-- Foundation schema: tenants, access, quality configuration, interactions, analyses, jobs, outbox.
-- Every tenant-owned row carries account_id and every query filters on it.

CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  timezone text NOT NULL DEFAULT 'UTC',
  webhooks_enabled boolean NOT NULL DEFAULT true,
  -- Overrides of the default limits (rate limits, conversation cap, batch and file sizes).
  limits jsonb NOT NULL DEFAULT '{}'::jsonb,
  embed_origins jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- The API key whose derived secret signs this account's webhooks.
  webhook_signing_key_id uuid,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  prefix text NOT NULL UNIQUE,
  secret_hash text NOT NULL,
  role text NOT NULL,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz,
  last_used_at timestamptz
);
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE users (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  email text NOT NULL,
  display_name text,
  role text NOT NULL,
  password_hash text NOT NULL,
  -- Row-level access: metadata key -> allowed values; empty means everything.
  metadata_scope jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- For agents: the metadata agent_id value that marks their own conversations.
  agent_id text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  disabled_at timestamptz
);
CREATE UNIQUE INDEX users_account_email ON users (account_id, lower(email));

CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);

CREATE TABLE metadata_fields (
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  key text NOT NULL,
  label text NOT NULL,
  type text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  filterable boolean NOT NULL DEFAULT true,
  access_controlled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (account_id, key)
);

CREATE TABLE quality_profiles (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  current_version integer NOT NULL,
  archived_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX quality_profiles_account ON quality_profiles (account_id);

-- Every edit of a profile is a new version; analyses keep the version they were scored with.
CREATE TABLE quality_profile_versions (
  profile_id uuid NOT NULL REFERENCES quality_profiles (id) ON DELETE CASCADE,
  version integer NOT NULL,
  definition jsonb NOT NULL,
  created_by text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (profile_id, version)
);

CREATE TABLE assignment_rules (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  priority integer NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  conditions jsonb NOT NULL,
  profile_ids jsonb NOT NULL,
  sampling_percent double precision NOT NULL DEFAULT 100,
  stop_on_match boolean NOT NULL DEFAULT true,
  reviewer jsonb,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX assignment_rules_account ON assignment_rules (account_id, priority);

-- Batch and file ingestion jobs.
CREATE TABLE ingest_jobs (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  type text NOT NULL,
  status text NOT NULL,
  request jsonb NOT NULL DEFAULT '{}'::jsonb,
  callback_url text,
  total_rows integer NOT NULL DEFAULT 0,
  accepted integer NOT NULL DEFAULT 0,
  rejected integer NOT NULL DEFAULT 0,
  -- File jobs: rows already ingested, so a restarted job resumes instead of starting again.
  rows_checkpoint integer NOT NULL DEFAULT 0,
  error_message text,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  completed_at timestamptz,
  updated_at timestamptz NOT NULL
);
CREATE INDEX ingest_jobs_account_status ON ingest_jobs (account_id, type, status);

CREATE TABLE ingest_job_errors (
  job_id uuid NOT NULL REFERENCES ingest_jobs (id) ON DELETE CASCADE,
  line integer NOT NULL,
  external_interaction_id text,
  reason text NOT NULL,
  PRIMARY KEY (job_id, line)
);

CREATE TABLE interactions (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  external_interaction_id text NOT NULL,
  batch_id uuid,
  integration_id uuid,
  channel_type text NOT NULL,
  source text,
  language text,
  interaction_start_time timestamptz,
  duration_seconds integer,
  audio_format text,
  callback_url text,
  audio_url text,
  transcript_url text,
  transcript_text text,
  pii_redacted boolean NOT NULL DEFAULT false,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL,
  status_modified_at timestamptz NOT NULL,
  failure_reason text,
  -- Set while the interaction waits for something outside cqa (e.g. a recording not yet published).
  waiting_reason text,
  content_hash text NOT NULL,
  -- Why the interaction was or was not analysed: the routing decision, rule by rule.
  routing jsonb,
  not_analysed_reason text,
  -- What the pipeline fetched and derived: blob keys, parsed transcript.
  media jsonb NOT NULL DEFAULT '{}'::jsonb,
  transcript jsonb,
  processing_revision integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  UNIQUE (account_id, external_interaction_id)
);
CREATE INDEX interactions_batch ON interactions (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX interactions_account_created ON interactions (account_id, created_at);

CREATE TABLE analyses (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  interaction_id uuid NOT NULL REFERENCES interactions (id) ON DELETE CASCADE,
  profile_id uuid NOT NULL REFERENCES quality_profiles (id),
  profile_version integer NOT NULL,
  status text NOT NULL,
  ai_score double precision,
  qa_score double precision,
  final_score double precision,
  criticality_adjusted_score double precision,
  max_score double precision,
  -- Per-KPI answers, justifications and evidence, keyed by KPI id.
  results jsonb,
  failure_reason text,
  revision integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  completed_at timestamptz,
  updated_at timestamptz NOT NULL,
  UNIQUE (interaction_id, profile_id)
);
CREATE INDEX analyses_account_created ON analyses (account_id, created_at);

-- Audit trail of QA reviews: every override is kept; the latest per KPI applies.
CREATE TABLE kpi_reviews (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  analysis_id uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
  kpi_id text NOT NULL,
  option_uid text,
  option_value text,
  score double precision,
  justification text,
  user_comment text,
  reviewer text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX kpi_reviews_analysis ON kpi_reviews (analysis_id, created_at);

CREATE TABLE disputes (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  analysis_id uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
  kpi_id text,
  reason text NOT NULL,
  raised_by text NOT NULL,
  status text NOT NULL,
  resolution text,
  resolution_comment text,
  resolved_by text,
  created_at timestamptz NOT NULL,
  resolved_at timestamptz
);
CREATE INDEX disputes_analysis ON disputes (analysis_id);

-- Conversation-cap counters, one row per account and period.
CREATE TABLE account_usage (
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  period text NOT NULL,
  period_start date NOT NULL,
  used integer NOT NULL,
  PRIMARY KEY (account_id, period, period_start)
);

-- The durable job queue: claimed with FOR UPDATE SKIP LOCKED, leased, retried with back-off.
CREATE TABLE jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  account_id uuid,
  payload jsonb NOT NULL,
  status text NOT NULL,
  run_at timestamptz NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  locked_by text,
  locked_until timestamptz,
  last_error text,
  dedupe_key text UNIQUE,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE status = 'queued';
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE status = 'running';

-- Transactional outbox: every result that must leave cqa, written with the state change.
CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  channel text NOT NULL,
  event text NOT NULL,
  dedupe_key text NOT NULL UNIQUE,
  interaction_id uuid,
  target text NOT NULL,
  -- The exact body sent (text, not jsonb, so every re-delivery carries the same bytes).
  payload text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  -- attempts made before the latest manual re-send; the retry budget counts from here.
  attempts_before_resend integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  locked_until timestamptz,
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL,
  delivered_at timestamptz,
  updated_at timestamptz NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_account ON outbox (account_id, created_at);
CREATE INDEX outbox_interaction ON outbox (interaction_id) WHERE interaction_id IS NOT NULL;

CREATE TABLE outbox_attempts (
  outbox_id uuid NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  attempted_at timestamptz NOT NULL,
  status_code integer,
  error text,
  duration_ms integer NOT NULL,
  PRIMARY KEY (outbox_id, attempt)
);

CREATE TABLE audit_log (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  actor text NOT NULL,
  action text NOT NULL,
  target text,
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL
);
CREATE INDEX audit_log_account ON audit_log (account_id, created_at);
