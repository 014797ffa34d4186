-- Analysis engine: per-account analysis settings (transcription engine, channel map, redaction),
-- and what the pipeline learnt from each recording.

CREATE TABLE analysis_settings (
  account_id uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  -- { transcriber, language, channel_map, redact_pii, integrations: { <integration id>: overrides } }
  settings jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Talk time, silence, overtalk, holds… measured from the recording (or why it could not be).
ALTER TABLE interactions ADD COLUMN audio_measures jsonb;
-- Which engine transcribed the recording, the phrases heard by keyword spotting, and any failure.
ALTER TABLE interactions ADD COLUMN speech jsonb;
