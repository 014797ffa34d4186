-- Exolite dashboard links (each works once) and the objects file-based sources (S3) took in.

-- A signed redirect link is refused a second time: its nonce is kept until the link would expire anyway.
CREATE TABLE IF NOT EXISTS redirect_link_nonces (
  integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
  nonce text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz NOT NULL,
  PRIMARY KEY (integration_id, nonce)
);
CREATE INDEX IF NOT EXISTS redirect_link_nonces_expiry ON redirect_link_nonces (expires_at);

-- Objects a file-based source (an S3 prefix) took in, by key and version (the ETag): an unchanged
-- object is never read again, an overwritten one (new version) is. Written in the ingest transaction.
CREATE TABLE IF NOT EXISTS source_objects (
  integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
  object_key text NOT NULL,
  version text NOT NULL,
  -- ingested, duplicate, reprocessed, rejected, manifest
  outcome text NOT NULL,
  processed_at timestamptz NOT NULL,
  PRIMARY KEY (integration_id, object_key)
);
