import { z } from "zod";
import type { AccountLimits } from "../core/limits.ts";

/** Channels the API recognises; others are accepted as submitted. */
export const knownChannels = ["VOICE", "CHAT", "EMAIL", "SMS", "WHATSAPP"] as const;

const isoDateTime = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$/i;

/** One URL, or several separated by `;`, each http(s) or s3. */
export function isMediaUrlList(value: string): boolean {
  const parts = splitUrlList(value);
  return parts.length > 0 && parts.every((part) => isUrlWithScheme(part, ["http:", "https:", "s3:"]));
}

export function splitUrlList(value: string): string[] {
  return value
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

export function isUrlWithScheme(value: string, schemes: readonly string[]): boolean {
  try {
    const url = new URL(value);
    return schemes.includes(url.protocol) && url.hostname.length > 0;
  } catch {
    return false;
  }
}

const text = (max: number) =>
  z
    .string()
    .max(max, { error: `{path} must be at most ${max} characters` })
    .optional()
    .nullable();

const metadataValue = z.union([z.string().max(4096), z.number(), z.boolean()], {
  error: "{path} must be a string, a number or a boolean",
});

/** Key-value tags of an interaction (also the defaults of a file job): scalar values, a key limit. */
export function metadataSchema(maxKeys: number) {
  return z
    .record(z.string().min(1).max(128), metadataValue, {
      error: (issue) =>
        issue.code === "invalid_key"
          ? "metadata keys must be 1 to 128 characters long"
          : "metadata must be an object of key-value pairs",
    })
    .refine((m) => Object.keys(m).length <= maxKeys, { error: `metadata must not exceed ${maxKeys} keys` })
    .optional()
    .nullable();
}

type ItemLimits = Pick<AccountLimits, "metadataMaxKeys" | "transcriptTextMaxBytes">;

/**
 * The canonical interaction every source is turned into (the Standard API's ingest item).
 * Built per limit set because metadata and transcript limits are per account.
 */
export function interactionItemSchema(limits: ItemLimits) {
  return interactionFieldsSchema(limits).refine((item) => hasContent(item), {
    error: "At least one of audio_url, transcript_url or transcript_text must be provided",
  });
}

/** The item's fields without the content rule (a recording uploaded with the request is content too). */
export function interactionFieldsSchema(limits: ItemLimits) {
  return z.object({
    external_interaction_id: z
      .string()
      .max(255, { error: "external_interaction_id must be at most 255 characters" })
      .refine((v) => v.trim().length > 0, { error: "external_interaction_id must not be empty" })
      .describe("Your unique identifier for this interaction; the deduplication key."),
    channel_type: z
      .string()
      .max(32, { error: "channel_type must be at most 32 characters" })
      .refine((v) => v.trim().length > 0, { error: "channel_type must not be empty" })
      .describe("VOICE, CHAT, EMAIL, SMS or WHATSAPP; other values are accepted as submitted."),
    source: text(255).describe("The originating system, e.g. my-pbx or genesys."),
    language: text(35).describe("Language code, e.g. en, hi, es."),
    interaction_start_time: z
      .string()
      .refine((v) => isoDateTime.test(v) && !Number.isNaN(Date.parse(v)), {
        error: "interaction_start_time must be an ISO-8601 date-time such as 2026-04-01T10:30:00Z",
      })
      .optional()
      .nullable()
      .describe("When the interaction started (ISO-8601; UTC when no offset is given)."),
    duration_seconds: z
      .number({ error: "duration_seconds must be a whole number of seconds" })
      .int({ error: "duration_seconds must be a whole number of seconds" })
      .min(0, { error: "duration_seconds must not be negative" })
      .max(7 * 24 * 3600, { error: "duration_seconds must be at most 604800 (7 days)" })
      .optional()
      .nullable(),
    audio_format: text(32).describe("Audio format hint, e.g. WAV, MP3, OGG."),
    callback_url: z
      .string()
      .max(2048)
      .refine((v) => isBlank(v) || isUrlWithScheme(v, ["http:", "https:"]), {
        error: "callback_url must be an http:// or https:// URL",
      })
      .optional()
      .nullable()
      .describe("Webhook URL for status notifications."),
    audio_url: z
      .string()
      .max(8192)
      .refine((v) => isBlank(v) || isMediaUrlList(v), {
        error: "audio_url must be an http://, https:// or s3:// URL (several may be separated by ;)",
      })
      .optional()
      .nullable(),
    transcript_url: z
      .string()
      .max(8192)
      .refine((v) => isBlank(v) || isMediaUrlList(v), {
        error: "transcript_url must be an http://, https:// or s3:// URL (several may be separated by ;)",
      })
      .optional()
      .nullable()
      .describe("Transcript location; wins over transcript_text when both are sent."),
    transcript_text: z
      .string()
      .refine((v) => Buffer.byteLength(v, "utf8") <= limits.transcriptTextMaxBytes, {
        error: (issue) =>
          `transcript_text must not exceed ${Math.round(limits.transcriptTextMaxBytes / 1024)} KB ` +
          `(${limits.transcriptTextMaxBytes} bytes of UTF-8); it has ${Buffer.byteLength(String(issue.input), "utf8")} bytes`,
      })
      .optional()
      .nullable()
      .describe(`Inline transcript, at most ${limits.transcriptTextMaxBytes} bytes of UTF-8.`),
    pii_redacted: z
      .boolean({ error: "pii_redacted must be true or false" })
      .optional()
      .nullable()
      .describe("True when PII was already redacted by the sender."),
    metadata: metadataSchema(limits.metadataMaxKeys).describe(
      `Key-value tags: at most ${limits.metadataMaxKeys} keys; string, number or boolean values.`,
    ),
  });
}

/** A blank optional field is the same as an absent one (CSV cells and many connectors send ""). */
function isBlank(value: string): boolean {
  return value.trim() === "";
}

function hasContent(item: {
  audio_url?: string | null | undefined;
  transcript_url?: string | null | undefined;
  transcript_text?: string | null | undefined;
}): boolean {
  return Boolean(item.audio_url?.trim() || item.transcript_url?.trim() || item.transcript_text?.trim());
}

export type InteractionItem = z.output<ReturnType<typeof interactionFieldsSchema>>;

interface ItemSchemas {
  item: ReturnType<typeof interactionItemSchema>;
  fields: ReturnType<typeof interactionFieldsSchema>;
}

const schemaCache = new Map<string, ItemSchemas>();

function schemasFor(limits: ItemLimits): ItemSchemas {
  const key = `${limits.metadataMaxKeys}:${limits.transcriptTextMaxBytes}`;
  let schemas = schemaCache.get(key);
  if (!schemas) {
    schemas = { item: interactionItemSchema(limits), fields: interactionFieldsSchema(limits) };
    schemaCache.set(key, schemas);
  }
  return schemas;
}

/** The item schema for these limits, built once. */
export function itemSchemaFor(limits: ItemLimits): ReturnType<typeof interactionItemSchema> {
  return schemasFor(limits).item;
}

/** The fields-only schema for these limits (items whose recording was uploaded with the request). */
export function itemFieldsSchemaFor(limits: ItemLimits): ReturnType<typeof interactionFieldsSchema> {
  return schemasFor(limits).fields;
}
