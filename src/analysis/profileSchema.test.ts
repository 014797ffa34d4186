import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { AppError } from "../core/errors.ts";
import {
  parseProfileDefinition,
  profileDefinitionInputSchema,
  profileDefinitionToApi,
} from "./profileSchema.ts";

function minimalProfile(kpi: Record<string, unknown> = {}) {
  return {
    name: "Retail banking QA",
    categories: [
      {
        name: "Opening",
        sub_categories: [
          {
            name: "Greeting",
            kpis: [
              {
                name: "Greeting",
                question: "Did the agent greet the customer?",
                evaluator: { type: "phrase_present", phrases: ["thank you for calling"] },
                ...kpi,
              },
            ],
          },
        ],
      },
    ],
  };
}

function problems(input: unknown): string[] {
  try {
    parseProfileDefinition(input);
  } catch (error) {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "VALIDATION_ERROR");
    return (error.details as { problems: string[] }).problems;
  }
  assert.fail("expected the profile to be refused");
}

test("a minimal profile gets ids from names and Yes / Partially / No options worth 10 / 5 / 0", () => {
  const definition = parseProfileDefinition(minimalProfile());
  const category = definition.categories[0]!;
  assert.equal(category.id, "opening");
  assert.equal(category.subCategories[0]?.id, "greeting");
  assert.deepEqual(category.subCategories[0]?.kpis[0], {
    id: "greeting",
    name: "Greeting",
    question: "Did the agent greet the customer?",
    criticality: "normal",
    allowNa: false,
    options: [
      { uid: "greeting-yes", value: "Yes", label: "Yes", score: 10 },
      { uid: "greeting-partially", value: "Partially", label: "Partially", score: 5 },
      { uid: "greeting-no", value: "No", label: "No", score: 0 },
    ],
    evaluator: { type: "phrase_present", phrases: ["thank you for calling"] },
  });
});

test("allow_na adds an N/A option and max_score scales the defaults", () => {
  const kpi = parseProfileDefinition(minimalProfile({ allow_na: true, max_score: 4 })).categories[0]!
    .subCategories[0]!.kpis[0]!;
  assert.deepEqual(
    kpi.options.map((o) => [o.value, o.score, o.label]),
    [
      ["Yes", 4, "Yes"],
      ["Partially", 2, "Partially"],
      ["No", 0, "No"],
      ["N/A", 0, "Not applicable"],
    ],
  );
});

test("the same input always gets the same ids, and repeated names are numbered", () => {
  const input = minimalProfile();
  const sub = input.categories[0]!.sub_categories[0]!;
  sub.kpis.push({ ...sub.kpis[0]! }, { ...sub.kpis[0]!, id: "greeting-2" } as never);
  const first = parseProfileDefinition(input);
  assert.deepEqual(parseProfileDefinition(input), first);
  assert.deepEqual(
    first.categories[0]!.subCategories[0]!.kpis.map((k) => k.id),
    ["greeting", "greeting-3", "greeting-2"],
  );
});

test("snake_case evaluator settings become the camelCase definition", () => {
  const kpi = parseProfileDefinition(
    minimalProfile({
      evaluator: {
        type: "phrase_present",
        phrases: ["thank you for holding"],
        match: "any",
        speaker: "agent",
        window: { first_seconds: 30, first_turns: 2 },
        min_similarity: 0.85,
        partial_outside_window: false,
        applies_when: {
          phrase_present: { phrases: ["please hold"], speaker: "agent" },
          channels: ["VOICE"],
          min_turns: 4,
        },
      },
    }),
  ).categories[0]!.subCategories[0]!.kpis[0]!;
  assert.deepEqual(kpi.evaluator, {
    type: "phrase_present",
    phrases: ["thank you for holding"],
    speaker: "agent",
    minSimilarity: 0.85,
    appliesWhen: {
      phrasePresent: { phrases: ["please hold"], speaker: "agent" },
      channels: ["VOICE"],
      minTurns: 4,
    },
    match: "any",
    window: { firstSeconds: 30, firstTurns: 2 },
    partialOutsideWindow: false,
  });
});

test("a definition survives the trip to the API form and back unchanged", () => {
  const definition = parseProfileDefinition({
    ...minimalProfile({
      criticality: "critical",
      allow_na: true,
      suggestion: "Greet the customer.",
      evaluator: {
        type: "phrase_absent",
        phrases: ["shut up"],
        speaker: "any",
        applies_when: { min_turns: 2 },
      },
    }),
    description: "Used for the retail queue",
  });
  const api = profileDefinitionToApi(definition);
  assert.deepEqual(parseProfileDefinition(api), definition);
  assert.equal(
    (api as { categories: { sub_categories: { kpis: { max_score: number }[] }[] }[] }).categories[0]!
      .sub_categories[0]!.kpis[0]!.max_score,
    10,
  );
});

test("empty phrase lists are refused with the path to the field", () => {
  const input = minimalProfile({ evaluator: { type: "phrase_present", phrases: [] } });
  assert.deepEqual(problems(input), [
    "categories[0].sub_categories[0].kpis[0].evaluator.phrases must contain at least 1 item(s)",
  ]);
});

test("every problem of a profile is reported at once, each with its path", () => {
  const input = {
    name: "",
    categories: [
      {
        name: "Opening",
        sub_categories: [
          {
            name: "Greeting",
            kpis: [
              {
                id: "greeting",
                name: "Greeting",
                question: "Did the agent greet?",
                options: [
                  { value: "Yes", score: 10 },
                  { value: "N/A", score: -1 },
                ],
                evaluator: { type: "phrase_present", phrases: ["  ", "!!"], min_similarity: 0.3, window: {} },
              },
              {
                name: "Greeting again",
                question: "Did the agent greet?",
                evaluator: { type: "keyword", phrases: ["hi"] },
              },
            ],
          },
        ],
      },
      { name: "Closing", sub_categories: [] },
    ],
  };
  assert.deepEqual(problems(input), [
    "name must not be empty",
    "categories[0].sub_categories[0].kpis[0].options[1].score must not be negative",
    "categories[0].sub_categories[0].kpis[0].evaluator.phrases[0] must not be empty",
    "categories[0].sub_categories[0].kpis[0].evaluator.phrases[1] must contain at least one word",
    "categories[0].sub_categories[0].kpis[0].evaluator.window must set at least one of first_seconds, last_seconds, first_turns or last_turns",
    "categories[0].sub_categories[0].kpis[0].evaluator.min_similarity must be a number between 0.5 and 1",
    'categories[0].sub_categories[0].kpis[0].options must include a "No" option',
    'categories[0].sub_categories[0].kpis[0].options may include an "N/A" option only when allow_na is true',
    'categories[0].sub_categories[0].kpis[1].evaluator.type must be one of "phrase_present", "phrase_absent", "phrase_spotted", "audio_measure", "sentiment", "llm"',
    "categories[1].sub_categories must contain at least 1 item(s)",
  ]);
});

test("ids given twice are refused, naming the second use", () => {
  const input = minimalProfile({ id: "greeting" });
  const category = input.categories[0]!;
  input.categories.push({ ...category, name: "Opening again" } as never);
  (input.categories[0] as { id?: string }).id = "opening";
  (input.categories[1] as { id?: string }).id = "opening";
  assert.deepEqual(problems(input), [
    'categories[1].id "opening" is used by another category; category ids must be unique within the profile',
    'categories[1].sub_categories[0].kpis[0].id "greeting" is used by another KPI; KPI ids must be unique within the profile',
  ]);
});

test("options must be consistent with max_score and carry distinct uids", () => {
  const input = minimalProfile({
    max_score: 10,
    options: [
      { uid: "a", value: "Yes", score: 5 },
      { uid: "a", value: "No", score: 0 },
    ],
  });
  assert.deepEqual(problems(input), [
    "categories[0].sub_categories[0].kpis[0].options must not give two options the same uid",
    "categories[0].sub_categories[0].kpis[0].max_score (10) must equal the highest option score (5), or be left out",
  ]);
});

test("a misspelt setting is refused rather than silently ignored", () => {
  const input = minimalProfile({
    evaluator: { type: "phrase_present", phrases: ["hi there"], min_similarty: 0.9 },
  });
  assert.deepEqual(problems(input), [
    "categories[0].sub_categories[0].kpis[0].evaluator has unknown field(s): min_similarty",
  ]);
});

test("the input schema converts to JSON Schema for the API document and the dashboard form", () => {
  const schema = z.toJSONSchema(profileDefinitionInputSchema, { io: "input" }) as {
    required: string[];
    properties: Record<string, unknown>;
  };
  assert.deepEqual(schema.required, ["name", "categories"]);
  const text = JSON.stringify(schema);
  for (const field of [
    "sub_categories",
    "allow_na",
    "min_similarity",
    "partial_outside_window",
    "applies_when",
  ]) {
    assert.ok(text.includes(`"${field}"`), field);
  }
});
