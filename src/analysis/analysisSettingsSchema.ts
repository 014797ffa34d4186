import { z } from "zod";
import type { AnalysisOptions, AnalysisSettings } from "../core/analysisSettings.ts";
import { parseOrThrow } from "../validation/validate.ts";

const channelIndex = z
  .number({ error: "{path} must be a channel number (0 = left, 1 = right)" })
  .int({ error: "{path} must be a whole number (0 = left, 1 = right)" })
  .min(0, { error: "{path} must be 0 or more (0 = left, 1 = right)" })
  .max(31, { error: "{path} must be at most 31" });

const optionsShape = {
  transcriber: z
    .enum(["auto", "none", "pocketsphinx", "openai"], {
      error: '{path} must be "auto", "none", "pocketsphinx" or "openai"',
    })
    .describe(
      "Engine for audio-only calls: auto = the server's default (a configured server, else PocketSphinx).",
    ),
  language: z
    .string({ error: "{path} must be a language code such as en or hi" })
    .regex(/^[a-z]{2}(-[A-Za-z]{2,4})?$/, { error: "{path} must be a language code such as en, hi or en-IN" })
    .nullable()
    .describe("Language of the calls when an interaction does not say (ISO 639-1)."),
  channel_map: z
    .strictObject({ agent: channelIndex, customer: channelIndex })
    .refine((m) => m.agent !== m.customer, { error: "{path}: agent and customer must be different channels" })
    .describe("Which channel of a stereo recording is whose; default agent 0 (left), customer 1 (right)."),
  redact_pii: z
    .boolean({ error: "{path} must be true or false" })
    .describe("Redact card numbers, phone numbers…"),
};

const overrideInput = z.strictObject({
  transcriber: optionsShape.transcriber.optional(),
  language: optionsShape.language.optional(),
  channel_map: optionsShape.channel_map.optional(),
  redact_pii: optionsShape.redact_pii.optional(),
});

/** The analysis settings as the REST API takes them (every field optional: defaults fill in). */
export const analysisSettingsInputSchema = z.strictObject({
  transcriber: optionsShape.transcriber.optional(),
  language: optionsShape.language.optional(),
  channel_map: optionsShape.channel_map.optional(),
  redact_pii: optionsShape.redact_pii.optional(),
  integrations: z
    .record(z.string().uuid({ error: "{path}: keys must be integration ids" }), overrideInput)
    .optional()
    .describe("Overrides per integration id (e.g. a telephony system that records the agent on the right)."),
});

type OverrideInput = z.infer<typeof overrideInput>;

function toOptions(input: OverrideInput): Partial<AnalysisOptions> {
  const out: Partial<AnalysisOptions> = {};
  if (input.transcriber !== undefined) out.transcriber = input.transcriber;
  if (input.language !== undefined) out.language = input.language;
  if (input.channel_map !== undefined) out.channelMap = input.channel_map;
  if (input.redact_pii !== undefined) out.redactPii = input.redact_pii;
  return out;
}

/** Validates settings from the API over the current ones; throws VALIDATION_ERROR listing every problem. */
export function parseAnalysisSettings(input: unknown, current: AnalysisSettings): AnalysisSettings {
  const parsed = parseOrThrow(analysisSettingsInputSchema, input, "Invalid analysis settings");
  return {
    ...current,
    ...toOptions(parsed),
    integrations: parsed.integrations
      ? Object.fromEntries(Object.entries(parsed.integrations).map(([id, o]) => [id, toOptions(o)]))
      : current.integrations,
  };
}

function optionsToApi(options: Partial<AnalysisOptions>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (options.transcriber !== undefined) out["transcriber"] = options.transcriber;
  if (options.language !== undefined) out["language"] = options.language;
  if (options.channelMap !== undefined) out["channel_map"] = options.channelMap;
  if (options.redactPii !== undefined) out["redact_pii"] = options.redactPii;
  return out;
}

/** The settings in the REST API's form. */
export function analysisSettingsToApi(settings: AnalysisSettings): Record<string, unknown> {
  return {
    ...optionsToApi(settings),
    integrations: Object.fromEntries(
      Object.entries(settings.integrations).map(([id, o]) => [id, optionsToApi(o)]),
    ),
  };
}
