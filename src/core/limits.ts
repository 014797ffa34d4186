export type CapPeriod = "day" | "week" | "month";

export interface ConversationCap {
  period: CapPeriod;
  limit: number;
}

/** Per-account limits of the Standard API. Each can be overridden per account by the operator. */
export interface AccountLimits {
  ingestPostsPerMinute: number;
  ingestGetsPerMinute: number;
  /** Other authenticated requests (analyses, management). */
  otherRequestsPerMinute: number;
  batchMaxItems: number;
  metadataMaxKeys: number;
  transcriptTextMaxBytes: number;
  fileMaxRows: number;
  fileMaxBytes: number;
  maxConcurrentFileJobs: number;
  /** "unlimited" only when the operator says so; an account without a cap gets the trial cap. */
  conversationCap: ConversationCap | "unlimited";
}

/** The trial cap applied when no cap was configured for an account. */
export const trialConversationCap: ConversationCap = { period: "month", limit: 300 };

export const defaultLimits: AccountLimits = {
  ingestPostsPerMinute: 100,
  ingestGetsPerMinute: 300,
  otherRequestsPerMinute: 600,
  batchMaxItems: 100,
  metadataMaxKeys: 50,
  transcriptTextMaxBytes: 102_400,
  fileMaxRows: 100_000,
  fileMaxBytes: 100 * 1024 * 1024,
  maxConcurrentFileJobs: 5,
  conversationCap: trialConversationCap,
};

/** The stored override document (snake_case, as the operator API takes it). */
export interface LimitOverrides {
  ingest_posts_per_minute?: number;
  ingest_gets_per_minute?: number;
  other_requests_per_minute?: number;
  batch_max_items?: number;
  metadata_max_keys?: number;
  transcript_text_max_bytes?: number;
  file_max_rows?: number;
  file_max_bytes?: number;
  max_concurrent_file_jobs?: number;
  conversation_cap?: ConversationCap | "unlimited";
}

/** Applies an account's overrides to the defaults. */
export function resolveLimits(overrides: LimitOverrides | null | undefined): AccountLimits {
  const o = overrides ?? {};
  return {
    ingestPostsPerMinute: o.ingest_posts_per_minute ?? defaultLimits.ingestPostsPerMinute,
    ingestGetsPerMinute: o.ingest_gets_per_minute ?? defaultLimits.ingestGetsPerMinute,
    otherRequestsPerMinute: o.other_requests_per_minute ?? defaultLimits.otherRequestsPerMinute,
    batchMaxItems: o.batch_max_items ?? defaultLimits.batchMaxItems,
    metadataMaxKeys: o.metadata_max_keys ?? defaultLimits.metadataMaxKeys,
    transcriptTextMaxBytes: o.transcript_text_max_bytes ?? defaultLimits.transcriptTextMaxBytes,
    fileMaxRows: o.file_max_rows ?? defaultLimits.fileMaxRows,
    fileMaxBytes: o.file_max_bytes ?? defaultLimits.fileMaxBytes,
    maxConcurrentFileJobs: o.max_concurrent_file_jobs ?? defaultLimits.maxConcurrentFileJobs,
    conversationCap: o.conversation_cap ?? defaultLimits.conversationCap,
  };
}
