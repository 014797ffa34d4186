-- Per-user preferences of the dashboard (e.g. the columns of the conversation list), so a choice
-- follows the user to any browser. One JSON value per (account, user, key); the API validates each
-- known key's value before it is stored, and the size check is a last guard against runaway values.
CREATE TABLE IF NOT EXISTS user_preferences (
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key text NOT NULL,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (account_id, user_id, key),
  CONSTRAINT user_preferences_value_size CHECK (octet_length(value::text) <= 16384)
);
