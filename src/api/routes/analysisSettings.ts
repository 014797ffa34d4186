import { z } from "zod";
import {
  analysisSettingsInputSchema,
  analysisSettingsToApi,
  parseAnalysisSettings,
} from "../../analysis/analysisSettingsSchema.ts";
import { parseProfileDefinition, profileDefinitionInputSchema } from "../../analysis/profileSchema.ts";
import { AppError } from "../../core/errors.ts";
import type { ProfileDefinition } from "../../core/qualityProfile.ts";
import type { Engines } from "../../engines/engineSet.ts";
import {
  existingIntegrationIds,
  getAnalysisSettings,
  saveAnalysisSettings,
} from "../../storage/repositories/analysisSettings.ts";
import { auditAction } from "../auditTrail.ts";
import { defineRoute } from "../route.ts";

const base = "/api/v1/accounts/{account_id}";

function presentEngines(engines: Engines | undefined): Record<string, unknown>[] {
  return (engines?.statuses ?? []).map((s) => ({ name: s.name, available: s.available, detail: s.detail }));
}

/** Settings that will not work on this server: said, not refused (the engines may be installed later). */
function settingWarnings(engines: Engines | undefined, choices: string[]): string[] {
  if (engines === undefined) return [];
  return [...new Set(choices)]
    .filter((c) => c !== "auto" && c !== "none" && !engines.speech.has(c))
    .map(
      (c) =>
        `The ${c} engine is not available on this server, so calls set to use it are not transcribed (see GET /analysis-settings engines, or cqa doctor).`,
    );
}

const getSettingsRoute = defineRoute({
  method: "get",
  path: `${base}/analysis-settings`,
  operationId: "getAnalysisSettings",
  summary: "How this account's recordings are analysed, and the engines this server has",
  tag: "Configuration",
  auth: "account",
  permission: "read",
  rate: "other",
  responses: { 200: { description: "The settings and the engines" } },
  async handle({ caller, services }) {
    const settings = await getAnalysisSettings(services.db, caller.account.id);
    return {
      status: 200,
      data: { ...analysisSettingsToApi(settings), engines: presentEngines(services.engines) },
    };
  },
});

const putSettingsRoute = defineRoute({
  method: "put",
  path: `${base}/analysis-settings`,
  operationId: "updateAnalysisSettings",
  summary: "Change how this account's recordings are analysed (fields not sent keep their value)",
  description:
    "transcriber (auto | none | pocketsphinx | openai), language, channel_map {agent, customer}, redact_pii, and " +
    "per-integration overrides of these under integrations.{integration_id}.",
  tag: "Configuration",
  auth: "account",
  permission: "configure",
  rate: "other",
  body: z.unknown(),
  documentedBody: analysisSettingsInputSchema,
  responses: {
    200: { description: "The settings, with warnings" },
    400: { description: "VALIDATION_ERROR" },
  },
  async handle({ body, caller, services }) {
    const accountId = caller.account.id;
    const settings = parseAnalysisSettings(body, await getAnalysisSettings(services.db, accountId));
    const integrationIds = Object.keys(settings.integrations);
    const known = await existingIntegrationIds(services.db, accountId, integrationIds);
    const unknown = integrationIds.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new AppError(
        "VALIDATION_ERROR",
        `integrations: no integration ${unknown.join(", ")} in this account`,
      );
    }
    const now = services.clock.now();
    await services.db.transaction(async (tx) => {
      await saveAnalysisSettings(tx, accountId, settings, now);
      await auditAction(tx, caller, now, "analysis_settings.updated", accountId, body);
    });
    const choices = [
      settings.transcriber,
      ...Object.values(settings.integrations).flatMap((o) => (o.transcriber ? [o.transcriber] : [])),
    ];
    return {
      status: 200,
      data: {
        ...analysisSettingsToApi(settings),
        engines: presentEngines(services.engines),
        warnings: settingWarnings(services.engines, choices),
      },
    };
  },
});

/** What a valid profile will not do on this server: KPIs that will be N/A, phrases not listened for. */
function profileWarnings(definition: ProfileDefinition, engines: Engines | undefined): string[] {
  const warnings: string[] = [];
  const kpis = definition.categories.flatMap((c) =>
    c.subCategories.flatMap((s) =>
      s.kpis.map((k) => ({ kpi: k, where: `${c.name} › ${s.name} › ${k.name}` })),
    ),
  );
  for (const { kpi, where } of kpis) {
    const evaluator = kpi.evaluator;
    if (evaluator.type === "llm" && engines !== undefined && engines.chat === null) {
      warnings.push(
        `${where}: no language model is configured on this server (CQA_LLM_URL), so this KPI will be N/A.`,
      );
    }
    if (evaluator.type === "phrase_spotted" && engines?.spotter) {
      for (const [phrase, why] of engines.spotter.unspottable(evaluator.phrases)) {
        warnings.push(
          `${where}: "${phrase}" cannot be listened for in the audio (${why}); only the transcript is searched for it.`,
        );
      }
    }
    if ((evaluator.type === "audio_measure" || evaluator.type === "phrase_spotted") && !kpi.allowNa) {
      warnings.push(
        `${where}: chats and e-mails have no recording; allow N/A so they are not marked down for it.`,
      );
    }
  }
  return warnings;
}

const validateProfileRoute = defineRoute({
  method: "post",
  path: `${base}/quality-profiles/validate`,
  operationId: "validateQualityProfile",
  summary: "Check a quality profile without saving it: every problem at once, and warnings for this server",
  tag: "Configuration",
  auth: "account",
  permission: "read",
  rate: "other",
  body: z.unknown(),
  documentedBody: profileDefinitionInputSchema,
  responses: {
    200: { description: "Valid, with the KPI count and warnings" },
    400: { description: "VALIDATION_ERROR listing every problem with its path" },
  },
  async handle({ body, services }) {
    const definition = parseProfileDefinition(body);
    const kpis = definition.categories.reduce(
      (n, c) => n + c.subCategories.reduce((m, s) => m + s.kpis.length, 0),
      0,
    );
    return {
      status: 200,
      data: { valid: true, kpi_count: kpis, warnings: profileWarnings(definition, services.engines) },
    };
  },
});

export const analysisSettingsRoutes = [getSettingsRoute, putSettingsRoute, validateProfileRoute];
