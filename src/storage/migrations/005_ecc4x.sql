-- ECC4x: the SFTP endpoint (users jailed to their account's inbox, the inbox's files and folders)
-- and single-use embed links.

-- SFTP users log in with a user name only (no account in the protocol), so names are unique across
-- accounts. Password (scrypt) and/or public keys; at least one is set.
CREATE TABLE sftp_users (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  username text NOT NULL,
  password_hash text,
  -- [{ "algorithm": "ssh-ed25519", "key": "<base64>", "comment": "…", "fingerprint": "SHA256:…" }]
  public_keys jsonb NOT NULL DEFAULT '[]'::jsonb,
  max_file_bytes bigint NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  disabled_at timestamptz,
  last_login_at timestamptz
);
CREATE UNIQUE INDEX sftp_users_username ON sftp_users (lower(username));
CREATE INDEX sftp_users_account ON sftp_users (account_id);

-- The inbox of an account: its folder tree lives here, file contents in the blob store. A file
-- appears only once its upload is complete (closed), so readers never see part of one.
CREATE TABLE sftp_files (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  -- Normalised absolute path inside the inbox ('/reports/vla.csv'); the root '/' is implicit.
  path text NOT NULL,
  parent text NOT NULL,
  name text NOT NULL,
  is_dir boolean NOT NULL,
  blob_key text,
  size bigint NOT NULL DEFAULT 0,
  sha256 text,
  uploaded_by uuid,
  created_at timestamptz NOT NULL,
  modified_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX sftp_files_path ON sftp_files (account_id, path);
CREATE INDEX sftp_files_parent ON sftp_files (account_id, parent, name);

-- Embed links are signed and short-lived; each is exchanged for a session once.
CREATE TABLE embed_token_uses (
  token_id text PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  used_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
