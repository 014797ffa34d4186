-- Kafka integrations (ECC6x): where each partition is up to, and which consumer owns it.
-- The row is the source of truth for the consumer position: a batch of events and the new offset
-- of its partition commit in one transaction, and only while the committing consumer still owns the
-- partition (the group gave it to no one else since), so offsets never run ahead of stored data.

CREATE TABLE kafka_partition_offsets (
  integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
  topic text NOT NULL,
  partition integer NOT NULL,
  -- The next offset to read: every record before it is stored or dead-lettered.
  next_offset bigint NOT NULL,
  -- The consumer (group member and generation) that owns the partition; null after a replay reset.
  owner text,
  -- The partition's end offset (high watermark) when last seen, for lag.
  end_offset bigint,
  end_offset_at timestamptz,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (integration_id, topic, partition)
);
