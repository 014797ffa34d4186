import { z } from "zod";
import { audioMeasureNames } from "../core/audio.ts";
import type {
  Applicability,
  Category,
  EvaluatorConfig,
  Kpi,
  KpiAnswer,
  KpiOption,
  PhraseWindow,
  ProfileDefinition,
} from "../core/qualityProfile.ts";
import { parseOrThrow } from "../validation/validate.ts";
import { assignIds, slugify } from "./profileIds.ts";
import { normaliseWords } from "./scoring/normaliseWords.ts";
import { maxScoreOf } from "./scoring/scoreProfile.ts";

const defaultMaxScore = 10;

const text = (max: number) =>
  z
    .string({ error: "{path} must be a string" })
    .trim()
    .min(1, { error: "{path} must not be empty" })
    .max(max, { error: `{path} must be at most ${max} characters` });

const idInput = text(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, {
    error: "{path} must start with a letter or digit and contain only letters, digits, '-', '_', '.' and ':'",
  })
  .describe("Stable identifier; generated from the name when absent.");

const phrasesInput = z
  .array(
    // An empty phrase is already reported as empty; "no word" is for punctuation-only phrases.
    text(200).refine((phrase) => phrase === "" || normaliseWords(phrase).length > 0, {
      error: "{path} must contain at least one word",
    }),
  )
  .min(1)
  .max(200)
  .describe("Phrases to look for; case, punctuation and contractions do not matter.");

const speakerInput = z.enum(["agent", "customer", "any"]);

const similarityInput = z
  .number({ error: "{path} must be a number between 0.5 and 1" })
  .min(0.5)
  .max(1)
  .describe("How close a fuzzy match must be, 0.5–1 (1 = exact words). Default 0.8.");

const positive = (integer: boolean) =>
  (integer ? z.number().int({ error: "{path} must be a whole number" }) : z.number()).gt(0, {
    error: "{path} must be greater than 0",
  });

const windowInput = z
  .strictObject({
    first_seconds: positive(false).optional(),
    last_seconds: positive(false).optional(),
    first_turns: positive(true).optional(),
    last_turns: positive(true).optional(),
  })
  .refine((w) => Object.values(w).some((v) => v !== undefined), {
    error: "{path} must set at least one of first_seconds, last_seconds, first_turns or last_turns",
  })
  .describe("Where the phrase must be said; bounds are alternatives. Seconds need a timed transcript.");

const appliesWhenInput = z
  .strictObject({
    phrase_present: z
      .strictObject({
        phrases: phrasesInput,
        speaker: speakerInput.optional().describe("Who must say the trigger; default anyone."),
        min_similarity: similarityInput.optional(),
      })
      .optional(),
    channels: z.array(text(32)).min(1).optional().describe("Channels the KPI applies to (VOICE, CHAT…)."),
    min_turns: positive(true).optional(),
  })
  .describe("When the KPI applies; otherwise it is answered N/A (if allowed).");

const phrasePresentInput = z.strictObject({
  type: z.literal("phrase_present"),
  phrases: phrasesInput,
  match: z
    .enum(["any", "all"])
    .optional()
    .describe("any: one phrase suffices (default); all: every phrase is needed."),
  speaker: speakerInput.optional().describe("Who must say it; default agent."),
  window: windowInput.optional(),
  min_similarity: similarityInput.optional(),
  partial_outside_window: z
    .boolean()
    .optional()
    .describe("Said only outside the window: Partially (default) or No."),
  applies_when: appliesWhenInput.optional(),
});

const phraseAbsentInput = z.strictObject({
  type: z.literal("phrase_absent"),
  phrases: phrasesInput,
  speaker: speakerInput.optional().describe("Who must not say them; default agent."),
  min_similarity: similarityInput.optional(),
  applies_when: appliesWhenInput.optional(),
});

const thresholdInput = z.number({ error: "{path} must be a number" });

const audioMeasureInput = z
  .strictObject({
    type: z.literal("audio_measure"),
    measure: z.enum(audioMeasureNames, {
      error: `{path} must be one of ${audioMeasureNames.join(", ")}`,
    }),
    operator: z.enum(["lt", "lte", "gt", "gte", "between"], {
      error: '{path} must be "lt", "lte", "gt", "gte" or "between"',
    }),
    value: thresholdInput
      .optional()
      .describe("The threshold (shares are 0–1: 0.1 = 10 %; durations in seconds)."),
    min: thresholdInput.optional().describe("Lower bound for between."),
    max: thresholdInput.optional().describe("Upper bound for between."),
    partial_margin: z
      .number()
      .min(0, { error: "{path} must not be negative" })
      .optional()
      .describe("Missed by at most this much: Partially instead of No."),
    applies_when: appliesWhenInput.optional(),
  })
  .superRefine((input, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: "custom", path: [path], message, input });
    if (input.operator === "between") {
      if (input.min === undefined || input.max === undefined)
        issue("min", '{path} and max are required with "between"');
      else if (input.min > input.max)
        issue("min", `{path} (${input.min}) must not be greater than max (${input.max})`);
      if (input.value !== undefined) issue("value", '{path} is not used with "between": give min and max');
    } else if (input.value === undefined) {
      issue("value", `{path} is required with "${input.operator}"`);
    }
    const share = input.measure.endsWith("_share") || input.measure === "talk_ratio";
    for (const key of ["value", "min", "max"] as const) {
      const v = input[key];
      if (share && v !== undefined && (v < 0 || v > 1)) {
        issue(key, `{path} must be between 0 and 1 for ${input.measure} (a share: 0.1 = 10 %)`);
      }
    }
  });

const phraseSpottedInput = z.strictObject({
  type: z.literal("phrase_spotted"),
  phrases: phrasesInput,
  speaker: speakerInput.optional().describe("Who must say it; default agent."),
  window: z
    .strictObject({ first_seconds: positive(false).optional(), last_seconds: positive(false).optional() })
    .refine((w) => w.first_seconds !== undefined || w.last_seconds !== undefined, {
      error: "{path} must set first_seconds or last_seconds",
    })
    .optional(),
  min_similarity: similarityInput.optional(),
  min_confidence: z
    .number({ error: "{path} must be a number between 0 and 1" })
    .min(0)
    .max(1)
    .optional()
    .describe("How sure the spotter must be of a hit heard in the audio (default 0.9)."),
  applies_when: appliesWhenInput.optional(),
});

const sentimentInput = z.strictObject({
  type: z.literal("sentiment"),
  speaker: z.enum(["agent", "customer"], { error: '{path} must be "agent" or "customer"' }),
  expect: z.enum(["improves", "not_worse", "positive_end", "not_negative"], {
    error: '{path} must be "improves", "not_worse", "positive_end" or "not_negative"',
  }),
  applies_when: appliesWhenInput.optional(),
});

const llmInput = z.strictObject({
  type: z.literal("llm"),
  prompt: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? "{path} is required: say in your words what the model should check"
          : "{path} must be a string",
    })
    .trim()
    .min(1, { error: "{path} must not be empty" })
    .max(4000, { error: "{path} must be at most 4000 characters" })
    .describe("What the model should check, in your words; the KPI's question is sent with it."),
  applies_when: appliesWhenInput.optional(),
});

const evaluatorTypes = [
  "phrase_present",
  "phrase_absent",
  "phrase_spotted",
  "audio_measure",
  "sentiment",
  "llm",
];

const evaluatorInput = z.discriminatedUnion(
  "type",
  [phrasePresentInput, phraseAbsentInput, phraseSpottedInput, audioMeasureInput, sentimentInput, llmInput],
  {
    error: (issue) =>
      issue.code === "invalid_union"
        ? `{path} must be one of ${evaluatorTypes.map((t) => `"${t}"`).join(", ")}`
        : undefined,
  },
);

const optionInput = z.strictObject({
  uid: idInput.optional(),
  value: z.enum(["Yes", "No", "Partially", "N/A"]),
  label: text(100).optional(),
  score: z.number({ error: "{path} must be a number" }).min(0, { error: "{path} must not be negative" }),
});

type OptionInput = z.infer<typeof optionInput>;
type KpiInput = z.infer<typeof kpiObjectInput>;

const kpiObjectInput = z.strictObject({
  id: idInput.optional(),
  name: text(200),
  question: text(1000).describe("The question a reviewer answers, e.g. “Did the agent greet the customer?”"),
  criticality: z
    .enum(["normal", "critical", "fatal"])
    .optional()
    .describe("critical: a No zeroes the category's adjusted score; fatal: the whole profile's."),
  allow_na: z.boolean().optional(),
  max_score: z
    .number()
    .min(0, { error: "{path} must not be negative" })
    .optional()
    .describe("Points for Yes when options are not given (default 10)."),
  options: z
    .array(optionInput)
    .min(2)
    .max(4)
    .optional()
    .describe("Answers and their points; default Yes / Partially (half) / No 0 (/ N/A 0)."),
  suggestion: text(1000).nullish().describe("Advice shown to the agent when the answer is not Yes."),
  evaluator: evaluatorInput,
});

function checkOptions(kpi: KpiInput, ctx: z.RefinementCtx): void {
  const options = kpi.options;
  if (options === undefined) return;
  const values = options.map((o) => o.value);
  const issue = (message: string) =>
    ctx.addIssue({ code: "custom", path: ["options"], message, input: options });
  if (new Set(values).size !== values.length) issue("{path} must not list the same value twice");
  if (!values.includes("Yes")) issue('{path} must include a "Yes" option');
  if (!values.includes("No")) issue('{path} must include a "No" option');
  if (values.includes("N/A") && kpi.allow_na !== true)
    issue('{path} may include an "N/A" option only when allow_na is true');
  const uids = options.flatMap((o) => (o.uid === undefined ? [] : [o.uid]));
  if (new Set(uids).size !== uids.length) issue("{path} must not give two options the same uid");
  const highest = Math.max(...options.map((o) => o.score));
  if (kpi.max_score !== undefined && kpi.max_score !== highest) {
    ctx.addIssue({
      code: "custom",
      path: ["max_score"],
      message: `{path} (${kpi.max_score}) must equal the highest option score (${highest}), or be left out`,
      input: kpi.max_score,
    });
  }
}

const kpiInput = kpiObjectInput.superRefine(checkOptions);

const subCategoryInput = z.strictObject({
  id: idInput.optional(),
  name: text(200),
  kpis: z.array(kpiInput).min(1).max(100),
});

const categoryInput = z.strictObject({
  id: idInput.optional(),
  name: text(200),
  sub_categories: z.array(subCategoryInput).min(1).max(50),
});

const profileObjectInput = z.object({
  name: text(200).describe("The profile's name, 1–200 characters."),
  description: z
    .string({ error: "{path} must be a string" })
    .trim()
    .max(2000, { error: "{path} must be at most 2000 characters" })
    .nullish(),
  categories: z.array(categoryInput).min(1).max(50),
});

type ProfileInput = z.infer<typeof profileObjectInput>;

function listAt(value: unknown, key: string): unknown[] {
  const list =
    typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return Array.isArray(list) ? list : [];
}

function idOf(value: unknown): string | undefined {
  const id =
    typeof value === "object" && value !== null ? (value as Record<string, unknown>)["id"] : undefined;
  return typeof id === "string" ? id.trim() : undefined;
}

/**
 * Reports every given id used twice; ids are unique per kind across the whole profile. Runs even when
 * other parts of the profile are invalid, so the sender sees every problem at once.
 */
function checkUniqueIds(profile: unknown, ctx: z.RefinementCtx): void {
  const seen = { category: new Set<string>(), "sub-category": new Set<string>(), KPI: new Set<string>() };
  const check = (kind: keyof typeof seen, item: unknown, path: (string | number)[]) => {
    const id = idOf(item);
    if (id === undefined) return;
    if (seen[kind].has(id)) {
      ctx.addIssue({
        code: "custom",
        path: [...path, "id"],
        message: `{path} "${id}" is used by another ${kind}; ${kind} ids must be unique within the profile`,
        input: id,
      });
    }
    seen[kind].add(id);
  };
  listAt(profile, "categories").forEach((category, c) => {
    check("category", category, ["categories", c]);
    listAt(category, "sub_categories").forEach((sub, s) => {
      check("sub-category", sub, ["categories", c, "sub_categories", s]);
      listAt(sub, "kpis").forEach((kpi, k) => {
        check("KPI", kpi, ["categories", c, "sub_categories", s, "kpis", k]);
      });
    });
  });
}

/**
 * A quality-profile definition as the REST API takes it (snake_case), validated and turned into the
 * camelCase {@link ProfileDefinition} with defaults filled in.
 */
export const profileDefinitionInputSchema = profileObjectInput
  .superRefine(checkUniqueIds)
  .transform(toDefinition);

/** Validates a profile definition from the API; throws VALIDATION_ERROR listing every problem. */
export function parseProfileDefinition(input: unknown): ProfileDefinition {
  return parseOrThrow(profileDefinitionInputSchema, input, "Invalid quality profile");
}

const defaultLabels: Record<KpiAnswer, string> = {
  Yes: "Yes",
  No: "No",
  Partially: "Partially",
  "N/A": "Not applicable",
};

function toDefinition(input: ProfileInput): ProfileDefinition {
  const categoryIds = assignIds(input.categories, "category");
  const subInputs = input.categories.flatMap((c) => c.sub_categories);
  const subIds = assignIds(subInputs, "sub-category");
  const kpiInputs = subInputs.flatMap((s) => s.kpis);
  const kpiIds = assignIds(kpiInputs, "kpi");
  let subIndex = 0;
  let kpiIndex = 0;
  const categories: Category[] = input.categories.map((category, c) => ({
    id: categoryIds[c]!,
    name: category.name,
    subCategories: category.sub_categories.map((sub) => ({
      id: subIds[subIndex++]!,
      name: sub.name,
      kpis: sub.kpis.map((kpi) => toKpi(kpi, kpiIds[kpiIndex++]!)),
    })),
  }));
  const definition: ProfileDefinition = { name: input.name, categories };
  // An empty description is how a client clears it.
  if (input.description) definition.description = input.description;
  return definition;
}

function toKpi(input: KpiInput, id: string): Kpi {
  const allowNa = input.allow_na ?? false;
  const kpi: Kpi = {
    id,
    name: input.name,
    question: input.question,
    criticality: input.criticality ?? "normal",
    allowNa,
    options: toOptions(input, id, allowNa),
    evaluator: toEvaluator(input.evaluator),
  };
  if (input.suggestion !== undefined && input.suggestion !== null) kpi.suggestion = input.suggestion;
  return kpi;
}

function toOptions(input: KpiInput, kpiId: string, allowNa: boolean): KpiOption[] {
  const max = input.max_score ?? defaultMaxScore;
  const defaults: OptionInput[] = [
    { value: "Yes", score: max },
    { value: "Partially", score: max / 2 },
    { value: "No", score: 0 },
    ...(allowNa ? [{ value: "N/A" as const, score: 0 }] : []),
  ];
  const given = input.options ?? defaults;
  const uids = assignIds(
    given.map((o) => ({ id: o.uid, name: `${kpiId}-${o.value === "N/A" ? "na" : slugify(o.value)}` })),
    `${kpiId}-option`,
  );
  return given.map((o, i) => ({
    uid: uids[i]!,
    value: o.value,
    label: o.label ?? defaultLabels[o.value],
    score: o.score,
  }));
}

type EvaluatorInput = z.infer<typeof evaluatorInput>;

function toEvaluator(input: EvaluatorInput): EvaluatorConfig {
  const appliesWhen =
    input.applies_when === undefined ? {} : { appliesWhen: toApplicability(input.applies_when) };
  switch (input.type) {
    case "audio_measure":
      return {
        type: "audio_measure",
        measure: input.measure,
        operator: input.operator,
        ...(input.value === undefined ? {} : { value: input.value }),
        ...(input.min === undefined ? {} : { min: input.min }),
        ...(input.max === undefined ? {} : { max: input.max }),
        ...(input.partial_margin === undefined ? {} : { partialMargin: input.partial_margin }),
        ...appliesWhen,
      };
    case "phrase_spotted": {
      const window: { firstSeconds?: number; lastSeconds?: number } = {};
      if (input.window?.first_seconds !== undefined) window.firstSeconds = input.window.first_seconds;
      if (input.window?.last_seconds !== undefined) window.lastSeconds = input.window.last_seconds;
      return {
        type: "phrase_spotted",
        phrases: input.phrases,
        ...(input.speaker === undefined ? {} : { speaker: input.speaker }),
        ...(input.window === undefined ? {} : { window }),
        ...(input.min_similarity === undefined ? {} : { minSimilarity: input.min_similarity }),
        ...(input.min_confidence === undefined ? {} : { minConfidence: input.min_confidence }),
        ...appliesWhen,
      };
    }
    case "sentiment":
      return { type: "sentiment", speaker: input.speaker, expect: input.expect, ...appliesWhen };
    case "llm":
      return { type: "llm", prompt: input.prompt, ...appliesWhen };
    case "phrase_present":
    case "phrase_absent":
      return toPhraseEvaluator(input);
  }
}

function toPhraseEvaluator(
  input: Extract<EvaluatorInput, { type: "phrase_present" | "phrase_absent" }>,
): EvaluatorConfig {
  const common = {
    phrases: input.phrases,
    ...(input.speaker === undefined ? {} : { speaker: input.speaker }),
    ...(input.min_similarity === undefined ? {} : { minSimilarity: input.min_similarity }),
    ...(input.applies_when === undefined ? {} : { appliesWhen: toApplicability(input.applies_when) }),
  };
  if (input.type === "phrase_absent") return { type: "phrase_absent", ...common };
  return {
    type: "phrase_present",
    ...common,
    ...(input.match === undefined ? {} : { match: input.match }),
    ...(input.window === undefined ? {} : { window: toWindow(input.window) }),
    ...(input.partial_outside_window === undefined
      ? {}
      : { partialOutsideWindow: input.partial_outside_window }),
  };
}

function toWindow(input: z.infer<typeof windowInput>): PhraseWindow {
  const window: PhraseWindow = {};
  if (input.first_seconds !== undefined) window.firstSeconds = input.first_seconds;
  if (input.last_seconds !== undefined) window.lastSeconds = input.last_seconds;
  if (input.first_turns !== undefined) window.firstTurns = input.first_turns;
  if (input.last_turns !== undefined) window.lastTurns = input.last_turns;
  return window;
}

function toApplicability(input: z.infer<typeof appliesWhenInput>): Applicability {
  const applicability: Applicability = {};
  const trigger = input.phrase_present;
  if (trigger !== undefined) {
    applicability.phrasePresent = {
      phrases: trigger.phrases,
      ...(trigger.speaker === undefined ? {} : { speaker: trigger.speaker }),
      ...(trigger.min_similarity === undefined ? {} : { minSimilarity: trigger.min_similarity }),
    };
  }
  if (input.channels !== undefined) applicability.channels = input.channels;
  if (input.min_turns !== undefined) applicability.minTurns = input.min_turns;
  return applicability;
}

/** A profile definition in the REST API's snake_case form, with every default written out. */
export function profileDefinitionToApi(definition: ProfileDefinition): unknown {
  return {
    name: definition.name,
    ...(definition.description === undefined ? {} : { description: definition.description }),
    categories: definition.categories.map((category) => ({
      id: category.id,
      name: category.name,
      sub_categories: category.subCategories.map((sub) => ({
        id: sub.id,
        name: sub.name,
        kpis: sub.kpis.map(kpiToApi),
      })),
    })),
  };
}

function kpiToApi(kpi: Kpi): unknown {
  return {
    id: kpi.id,
    name: kpi.name,
    question: kpi.question,
    criticality: kpi.criticality,
    allow_na: kpi.allowNa,
    max_score: maxScoreOf(kpi),
    options: kpi.options.map((o) => ({ uid: o.uid, value: o.value, label: o.label, score: o.score })),
    ...(kpi.suggestion === undefined ? {} : { suggestion: kpi.suggestion }),
    evaluator: evaluatorToApi(kpi.evaluator),
  };
}

function evaluatorToApi(evaluator: EvaluatorConfig): unknown {
  const appliesWhen =
    evaluator.appliesWhen === undefined ? {} : { applies_when: applicabilityToApi(evaluator.appliesWhen) };
  switch (evaluator.type) {
    case "audio_measure":
      return {
        type: evaluator.type,
        measure: evaluator.measure,
        operator: evaluator.operator,
        ...(evaluator.value === undefined ? {} : { value: evaluator.value }),
        ...(evaluator.min === undefined ? {} : { min: evaluator.min }),
        ...(evaluator.max === undefined ? {} : { max: evaluator.max }),
        ...(evaluator.partialMargin === undefined ? {} : { partial_margin: evaluator.partialMargin }),
        ...appliesWhen,
      };
    case "phrase_spotted":
      return {
        type: evaluator.type,
        phrases: evaluator.phrases,
        ...(evaluator.speaker === undefined ? {} : { speaker: evaluator.speaker }),
        ...(evaluator.window === undefined ? {} : { window: windowToApi(evaluator.window) }),
        ...(evaluator.minSimilarity === undefined ? {} : { min_similarity: evaluator.minSimilarity }),
        ...(evaluator.minConfidence === undefined ? {} : { min_confidence: evaluator.minConfidence }),
        ...appliesWhen,
      };
    case "sentiment":
      return { type: evaluator.type, speaker: evaluator.speaker, expect: evaluator.expect, ...appliesWhen };
    case "llm":
      return { type: evaluator.type, prompt: evaluator.prompt, ...appliesWhen };
    case "phrase_present":
    case "phrase_absent":
      return phraseEvaluatorToApi(evaluator);
  }
}

function phraseEvaluatorToApi(
  evaluator: Extract<EvaluatorConfig, { type: "phrase_present" | "phrase_absent" }>,
): unknown {
  const common = {
    type: evaluator.type,
    phrases: evaluator.phrases,
    ...(evaluator.speaker === undefined ? {} : { speaker: evaluator.speaker }),
    ...(evaluator.minSimilarity === undefined ? {} : { min_similarity: evaluator.minSimilarity }),
    ...(evaluator.appliesWhen === undefined
      ? {}
      : { applies_when: applicabilityToApi(evaluator.appliesWhen) }),
  };
  if (evaluator.type === "phrase_absent") return common;
  return {
    ...common,
    ...(evaluator.match === undefined ? {} : { match: evaluator.match }),
    ...(evaluator.window === undefined ? {} : { window: windowToApi(evaluator.window) }),
    ...(evaluator.partialOutsideWindow === undefined
      ? {}
      : { partial_outside_window: evaluator.partialOutsideWindow }),
  };
}

function windowToApi(window: PhraseWindow): Record<string, number> {
  const api: Record<string, number> = {};
  if (window.firstSeconds !== undefined) api["first_seconds"] = window.firstSeconds;
  if (window.lastSeconds !== undefined) api["last_seconds"] = window.lastSeconds;
  if (window.firstTurns !== undefined) api["first_turns"] = window.firstTurns;
  if (window.lastTurns !== undefined) api["last_turns"] = window.lastTurns;
  return api;
}

function applicabilityToApi(when: Applicability): Record<string, unknown> {
  const api: Record<string, unknown> = {};
  const trigger = when.phrasePresent;
  if (trigger !== undefined) {
    api["phrase_present"] = {
      phrases: trigger.phrases,
      ...(trigger.speaker === undefined ? {} : { speaker: trigger.speaker }),
      ...(trigger.minSimilarity === undefined ? {} : { min_similarity: trigger.minSimilarity }),
    };
  }
  if (when.channels !== undefined) api["channels"] = when.channels;
  if (when.minTurns !== undefined) api["min_turns"] = when.minTurns;
  return api;
}
