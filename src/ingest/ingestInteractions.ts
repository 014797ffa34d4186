import { createHash } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import { newId } from "../core/ids.ts";
import { resolveLimits } from "../core/limits.ts";
import type { Database, Queryable } from "../storage/db.ts";
import { enqueueJobs } from "../storage/jobQueue.ts";
import { addToOutbox, type OutboxMessage, webhookMessage } from "../storage/outbox.ts";
import type { AccountRecord } from "../storage/repositories/accounts.ts";
import {
  findByExternalIds,
  type InteractionMedia,
  insertInteractions,
  type NewInteraction,
} from "../storage/repositories/interactions.ts";
import { addUsage, lockUsage } from "../storage/repositories/usage.ts";
import { describeIssues } from "../validation/validate.ts";
import { capExceededMessage, capWindow } from "./conversationCap.ts";
import { type InteractionItem, itemFieldsSchemaFor, itemSchemaFor } from "./interactionSchema.ts";

/** The job that takes an interaction through the pipeline. */
export const processInteractionJob = "interaction.process";

export interface ProcessInteractionPayload {
  interactionId: string;
  accountId: string;
  revision: number;
}

/** What happened to one submitted item. */
export type IngestItemResult =
  | { index: number; status: "accepted"; interactionId: string; externalInteractionId: string }
  | {
      index: number;
      status: "duplicate";
      interactionId: string;
      externalInteractionId: string;
      /** True when the stored interaction has the same content (a harmless re-send). */
      sameContent: boolean;
    }
  | {
      index: number;
      status: "rejected";
      code: "VALIDATION_ERROR" | "DUPLICATE" | "CONVERSATION_CAP_EXCEEDED";
      reason: string;
      externalInteractionId: string | null;
    };

export interface IngestRequest {
  account: AccountRecord;
  /** Raw items, validated here against the account's limits. */
  items: readonly unknown[];
  batchId?: string | null;
  integrationId?: string | null;
  /** Send INTERACTION_INGESTED to each item's callback_url (not for file rows, as published). */
  announce: boolean;
  /** Media already stored for an item (e.g. an uploaded recording), by item index. */
  media?: ReadonlyMap<number, InteractionMedia>;
  /**
   * Runs inside the ingest transaction after the interactions are written: a source records its
   * progress here (job row, checkpoint) so that progress and data commit together.
   */
  inTransaction?: (tx: Queryable, results: IngestItemResult[]) => Promise<void>;
}

export interface IngestDependencies {
  db: Database;
  clock: Clock;
  /** Wakes local workers after commit. */
  onQueued?: () => void;
}

interface Candidate {
  index: number;
  item: InteractionItem;
  row: NewInteraction;
}

/**
 * The one canonical ingest path: validate → dedupe on (account, external id) with content hash →
 * persist → enqueue processing, all in one transaction. Every source — the Standard API, files,
 * connectors — calls this and nothing else to create interactions.
 */
export async function ingestInteractions(
  deps: IngestDependencies,
  request: IngestRequest,
): Promise<IngestItemResult[]> {
  const { account } = request;
  const limits = resolveLimits(account.limits);
  const schema = itemSchemaFor(limits);
  const fieldsOnly = itemFieldsSchemaFor(limits);
  const now = deps.clock.now();
  const results: (IngestItemResult | undefined)[] = new Array(request.items.length);
  const candidates: Candidate[] = [];
  const firstIndexOf = new Map<string, number>();

  request.items.forEach((raw, index) => {
    const uploaded = request.media?.get(index)?.uploadedAudioKey !== undefined;
    const parsed = (uploaded ? fieldsOnly : schema).safeParse(raw, { reportInput: true });
    if (!parsed.success) {
      results[index] = {
        index,
        status: "rejected",
        code: "VALIDATION_ERROR",
        reason: describeIssues(parsed.error.issues).join("; "),
        externalInteractionId: externalIdOf(raw),
      };
      return;
    }
    const item = parsed.data;
    const earlier = firstIndexOf.get(item.external_interaction_id);
    if (earlier !== undefined) {
      results[index] = {
        index,
        status: "rejected",
        code: "DUPLICATE",
        reason: `external_interaction_id '${item.external_interaction_id}' appears more than once in this request (first as item ${earlier + 1})`,
        externalInteractionId: item.external_interaction_id,
      };
      return;
    }
    firstIndexOf.set(item.external_interaction_id, index);
    candidates.push({ index, item, row: toNewInteraction(item, request, index, now) });
  });

  const finished = await deps.db.transaction(async (tx) => {
    const cap = limits.conversationCap === "unlimited" ? null : limits.conversationCap;
    const window = cap ? capWindow(cap, now, account.timezone) : null;
    const used = cap && window ? await lockUsage(tx, account.id, window.period, window.periodStart) : 0;

    const existing = await findByExternalIds(
      tx,
      account.id,
      candidates.map((c) => c.item.external_interaction_id),
    );
    const fresh: Candidate[] = [];
    for (const candidate of candidates) {
      const found = existing.get(candidate.item.external_interaction_id);
      if (found) {
        results[candidate.index] = duplicateResult(candidate, found);
      } else {
        fresh.push(candidate);
      }
    }

    let admitted = fresh;
    if (cap) {
      const room = Math.max(0, cap.limit - used);
      admitted = fresh.slice(0, room);
      for (const candidate of fresh.slice(room)) {
        results[candidate.index] = {
          index: candidate.index,
          status: "rejected",
          code: "CONVERSATION_CAP_EXCEEDED",
          reason: capExceededMessage(cap, used + admitted.length),
          externalInteractionId: candidate.item.external_interaction_id,
        };
      }
    }

    const inserted = await insertInteractions(
      tx,
      admitted.map((c) => c.row),
    );
    // Rows skipped by ON CONFLICT were inserted by a concurrent request between our check and insert.
    const raced = admitted.filter((c) => !inserted.has(c.row.id));
    if (raced.length > 0) {
      const now = await findByExternalIds(
        tx,
        account.id,
        raced.map((c) => c.item.external_interaction_id),
      );
      for (const candidate of raced) {
        const found = now.get(candidate.item.external_interaction_id);
        if (found) results[candidate.index] = duplicateResult(candidate, found);
      }
    }
    const accepted = admitted.filter((c) => inserted.has(c.row.id));
    for (const candidate of accepted) {
      results[candidate.index] = {
        index: candidate.index,
        status: "accepted",
        interactionId: candidate.row.id,
        externalInteractionId: candidate.item.external_interaction_id,
      };
    }
    if (cap && window) await addUsage(tx, account.id, window.period, window.periodStart, accepted.length);

    await enqueueJobs(
      tx,
      accepted.map((c) => ({
        kind: processInteractionJob,
        accountId: account.id,
        payload: {
          interactionId: c.row.id,
          accountId: account.id,
          revision: 1,
        } satisfies ProcessInteractionPayload,
        dedupeKey: `${processInteractionJob}:${c.row.id}:1`,
        maxAttempts: 20,
      })),
      now,
    );
    if (request.announce && account.webhooksEnabled) {
      await addToOutbox(
        tx,
        accepted.flatMap((c) => ingestedEvent(account.id, c, now)),
        now,
      );
    }
    const complete = results.map((r, index) => r ?? internalGap(index));
    if (request.inTransaction) await request.inTransaction(tx, complete);
    return { complete, queued: accepted.length };
  });
  if (finished.queued > 0) deps.onQueued?.();
  return finished.complete;
}

function duplicateResult(candidate: Candidate, found: { id: string; contentHash: string }): IngestItemResult {
  return {
    index: candidate.index,
    status: "duplicate",
    interactionId: found.id,
    externalInteractionId: candidate.item.external_interaction_id,
    sameContent: found.contentHash === candidate.row.contentHash,
  };
}

function internalGap(index: number): IngestItemResult {
  // Unreachable by construction; kept so a bug shows up as a rejected item, not a lost one.
  return {
    index,
    status: "rejected",
    code: "VALIDATION_ERROR",
    reason: "The item was not processed; submit it again",
    externalInteractionId: null,
  };
}

function ingestedEvent(accountId: string, candidate: Candidate, now: Date): OutboxMessage[] {
  const url = candidate.row.callbackUrl;
  if (!url) return [];
  return [
    webhookMessage({
      id: newId(),
      dedupeKey: `INTERACTION_INGESTED:${candidate.row.id}`,
      url,
      envelope: {
        event: "INTERACTION_INGESTED",
        timestamp: now,
        accountId,
        interactionId: candidate.row.id,
        externalInteractionId: candidate.item.external_interaction_id,
        data: { status: "INGESTED" },
      },
    }),
  ];
}

function toNewInteraction(
  item: InteractionItem,
  request: IngestRequest,
  index: number,
  now: Date,
): NewInteraction {
  const transcriptUrl = blankToNull(item.transcript_url);
  const media = request.media?.get(index) ?? {};
  return {
    id: newId(now.getTime()),
    accountId: request.account.id,
    externalInteractionId: item.external_interaction_id,
    batchId: request.batchId ?? null,
    integrationId: request.integrationId ?? null,
    channelType: item.channel_type,
    source: blankToNull(item.source),
    language: blankToNull(item.language),
    interactionStartTime: item.interaction_start_time ? parseStartTime(item.interaction_start_time) : null,
    durationSeconds: item.duration_seconds ?? null,
    audioFormat: blankToNull(item.audio_format),
    callbackUrl: blankToNull(item.callback_url),
    audioUrl: blankToNull(item.audio_url),
    transcriptUrl,
    // As published: when both are sent, transcript_url wins and the inline text is ignored.
    transcriptText: transcriptUrl ? null : blankToNull(item.transcript_text),
    piiRedacted: item.pii_redacted ?? false,
    metadata: item.metadata ?? {},
    contentHash: contentHash(item, media),
    media,
    createdAt: now,
  };
}

/** ISO-8601 without an offset is taken as UTC, as the published CSV schema says. */
function parseStartTime(value: string): Date {
  const hasOffset = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(value);
  return new Date(hasOffset ? value : `${value}Z`);
}

function blankToNull(value: string | null | undefined): string | null {
  return value === undefined || value === null || value.trim() === "" ? null : value;
}

/** A fingerprint of what was submitted, to tell a harmless re-send from a conflicting one. */
export function contentHash(item: InteractionItem, media: InteractionMedia): string {
  const canonical = canonicalJson({
    item,
    uploaded: media.uploadedAudioKey ? (media.audio?.[0]?.sha256 ?? null) : null,
  });
  return createHash("sha256").update(canonical).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== null)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

function externalIdOf(raw: unknown): string | null {
  if (raw && typeof raw === "object" && "external_interaction_id" in raw) {
    const id = (raw as { external_interaction_id: unknown }).external_interaction_id;
    if (typeof id === "string" && id.length <= 255) return id;
  }
  return null;
}
