import { type ChannelMap, defaultChannelMap } from "./audio.ts";

/** Which engine transcribes audio-only calls: the server default, none, or a named one. */
export type TranscriberSetting = "auto" | "none" | "pocketsphinx" | "openai";

/** How one account's (or one integration's) recordings are analysed. */
export interface AnalysisOptions {
  transcriber: TranscriberSetting;
  /** Language hint (ISO 639-1) when the interaction gives none. */
  language: string | null;
  channelMap: ChannelMap;
  /** Redact PII in transcripts and evidence (unless the interaction says it already is). */
  redactPii: boolean;
}

/** An account's analysis settings: its defaults and per-integration overrides. */
export interface AnalysisSettings extends AnalysisOptions {
  integrations: Record<string, Partial<AnalysisOptions>>;
}

export const defaultAnalysisSettings: AnalysisSettings = {
  transcriber: "auto",
  language: null,
  channelMap: defaultChannelMap,
  redactPii: true,
  integrations: {},
};

/** The options that apply to an interaction: the integration's overrides over the account's defaults. */
export function analysisOptionsFor(
  settings: AnalysisSettings,
  integrationId: string | null,
): AnalysisOptions {
  const override = integrationId === null ? undefined : settings.integrations[integrationId];
  return {
    transcriber: override?.transcriber ?? settings.transcriber,
    language: override?.language !== undefined ? override.language : settings.language,
    channelMap: override?.channelMap ?? settings.channelMap,
    redactPii: override?.redactPii ?? settings.redactPii,
  };
}
