// Standard API conformance — the Analysis API: every published validation message of the list,
// date ranges as whole days of the account's time zone, score / profile / metadata filters,
// pagination, and the analysis detail before and after a QA review.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { backends, type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import { type AccountApi, accountApi, assertApiError, dataOf, uuidPattern } from "./conformance.ts";

const transcripts = {
  good:
    "Agent: Good morning, thank you for calling. Could you confirm your date of birth?\nCustomer: 1 May 1980.\n" +
    "Agent: I understand, I'm sorry to hear that. Is there anything else I can help you with?\nCustomer: No.\n" +
    "Agent: Thank you for calling, have a great day.",
  mid: "Agent: Hello! How can I help you today?\nCustomer: I need to reset my password.\nAgent: Sure, I can help with that. Let me send you a reset link.",
  bad: "Agent: What do you want?\nCustomer: My card is blocked.\nAgent: That's not my problem, shut up.",
  silent: "Customer: hello?\nCustomer: anyone there?",
};

/** Conversations and the instant each is ingested and analysed (the account is in Asia/Kolkata, UTC+05:30). */
const dataset: {
  id: string;
  at: string;
  text: keyof typeof transcripts;
  metadata?: Record<string, unknown>;
}[] = [
  // 23:59 on 30 June in Kolkata.
  {
    id: "d1",
    at: "2026-06-30T18:29:00Z",
    text: "good",
    metadata: { agent: "agent-42", campaign: "retention", calls: 5 },
  },
  // 00:01 on 1 July in Kolkata, though still 30 June in UTC.
  {
    id: "d2",
    at: "2026-06-30T18:31:00Z",
    text: "mid",
    metadata: { agent: "agent-15", campaign: "support", calls: 12 },
  },
  {
    id: "d3",
    at: "2026-07-15T12:00:00Z",
    text: "bad",
    metadata: { agent: "agent-42", campaign: "Support-Premium", calls: 20 },
  },
  // 23:50 on 31 July in Kolkata.
  { id: "d4", at: "2026-07-31T18:20:00Z", text: "silent" },
  // 00:10 on 1 August in Kolkata, though still 31 July in UTC.
  { id: "d5", at: "2026-07-31T18:40:00Z", text: "good", metadata: { agent: "agent-99" } },
];

const dateFilter = (start_date: string, end_date: string) => ({
  field: "date",
  operator: "range",
  value: { start_date, end_date },
});

interface Row {
  analysis_id: string;
  external_interaction_id: string;
  profile_id: string;
  final_score: number;
  created_at: string;
}

for (const backend of backends()) {
  describe(`Standard API analyses (${backend.name})`, () => {
    const clock = new ManualClock("2026-06-30T12:00:00Z");
    let cqa: TestCqa;
    let account: CreatedAccount;
    let api: AccountApi;
    let secondProfileId: string;

    async function list(
      body: unknown,
      query = "",
    ): Promise<{ analyses: Row[]; pagination: Record<string, number> }> {
      return dataOf(await api("POST", `/analyses${query}`, { body }));
    }
    const ids = (rows: Row[]) => [...new Set(rows.map((r) => r.external_interaction_id))].sort();
    const wholeWindow = [dateFilter("2026-06-30", "2026-07-31")];

    before(async () => {
      cqa = await startTestCqa({ backend, clock });
      account = await cqa.createAccount({ timezone: "Asia/Kolkata" });
      api = accountApi(cqa, account);
      for (const item of dataset) {
        clock.set(item.at);
        dataOf(
          await api("POST", "/ingress/interactions", {
            body: {
              external_interaction_id: item.id,
              channel_type: "CHAT",
              transcript_text: transcripts[item.text],
              ...(item.metadata ? { metadata: item.metadata } : {}),
            },
          }),
          201,
        );
        await cqa.drain();
      }
      // A second profile, applied from now on beside the starter profile by the catch-all rule.
      const starter = dataOf(await api("GET", `/quality-profiles/${account.starterProfileId}`));
      secondProfileId = dataOf(
        await api("POST", "/quality-profiles", { body: { ...starter.definition, name: "Second opinion" } }),
        201,
      ).profile_id;
      dataOf(
        await api("PATCH", `/assignment-rules/${account.catchAllRuleId}`, {
          body: { profile_ids: [account.starterProfileId, secondProfileId] },
        }),
      );
      clock.set("2026-07-20T10:00:00Z");
      for (const [id, text] of [
        ["e1", transcripts.mid],
        ["e2", transcripts.good],
      ] as const) {
        dataOf(
          await api("POST", "/ingress/interactions", {
            body: {
              external_interaction_id: id,
              channel_type: "CHAT",
              transcript_text: text,
              metadata: { agent: "agent-7" },
            },
          }),
          201,
        );
      }
      await cqa.drain();
      clock.set("2026-08-05T09:00:00Z");
    });

    after(async () => {
      await cqa?.stop();
    });

    test("dates are whole days in the account's time zone, end_date inclusive, created_at with its offset", async () => {
      const july = await list({ other_filters: [dateFilter("2026-07-01", "2026-07-31")] });
      assert.deepEqual(ids(july.analyses), ["d2", "d3", "d4", "e1", "e2"]);
      assert.equal(july.pagination.total, 7);

      const firstOfJuly = await list({ other_filters: [dateFilter("2026-07-01", "2026-07-01")] });
      assert.deepEqual(ids(firstOfJuly.analyses), ["d2"]);
      assert.deepEqual(Object.keys(firstOfJuly.analyses[0]!).sort(), [
        "ai_score",
        "analysis_id",
        "created_at",
        "criticality_adjusted_score",
        "external_interaction_id",
        "final_score",
        "interaction_id",
        "metadata",
        "profile_id",
        "status",
      ]);
      assert.equal(firstOfJuly.analyses[0]!.created_at, "2026-07-01T00:01:00.000+05:30");

      const lastOfJune = await list({ other_filters: [dateFilter("2026-06-30", "2026-06-30")] });
      assert.deepEqual(ids(lastOfJune.analyses), ["d1"]);
      assert.equal(lastOfJune.analyses[0]!.created_at, "2026-06-30T23:59:00.000+05:30");

      const august = await list({ other_filters: [dateFilter("2026-08-01", "2026-08-01")] });
      assert.deepEqual(ids(august.analyses), ["d5"]);
    });

    test("ISO-8601 instants bound the range exactly, the end instant included", async () => {
      const instants = await list({
        other_filters: [dateFilter("2026-07-01T00:00:00+05:30", "2026-07-15T12:00:00Z")],
      });
      assert.deepEqual(ids(instants.analyses), ["d2", "d3"]);
    });

    test("a date range of 31 days is accepted", async () => {
      const month = await list({ other_filters: wholeWindow });
      assert.deepEqual(ids(month.analyses), ["d1", "d2", "d3", "d4", "e1", "e2"]);
      assert.equal(month.pagination.total, 8);
    });

    test("each score operator filters on the final score", async () => {
      const all = (await list({ other_filters: wholeWindow, quality_profile_uid: account.starterProfileId }))
        .analyses;
      const scores = [...new Set(all.map((r) => r.final_score))].sort((a, b) => a - b);
      assert.ok(scores.length >= 3, `the dataset needs varied scores, got ${scores.join(", ")}`);
      const pivot = scores[1]!;
      const expectations: [string, (score: number) => boolean][] = [
        ["greater_than", (s) => s > pivot],
        ["less_than", (s) => s < pivot],
        ["greater_than_or_equal", (s) => s >= pivot],
        ["less_than_or_equal", (s) => s <= pivot],
        ["equals", (s) => s === pivot],
      ];
      for (const [operator, keep] of expectations) {
        const filtered = await list({
          other_filters: [...wholeWindow, { field: "score", operator, value: pivot }],
          quality_profile_uid: account.starterProfileId,
        });
        const expected = all.filter((r) => keep(r.final_score)).map((r) => r.analysis_id);
        assert.ok(expected.length > 0 && expected.length < all.length, operator);
        assert.deepEqual(filtered.analyses.map((r) => r.analysis_id).sort(), expected.sort(), operator);
        assert.equal(filtered.pagination.total, expected.length, operator);
      }
    });

    test("quality_profile_uid keeps the analyses of that profile only", async () => {
      const second = await list({ other_filters: wholeWindow, quality_profile_uid: secondProfileId });
      assert.deepEqual(ids(second.analyses), ["e1", "e2"]);
      assert.ok(second.analyses.every((r) => r.profile_id === secondProfileId));
      const starter = await list({
        other_filters: wholeWindow,
        quality_profile_uid: account.starterProfileId,
      });
      assert.equal(starter.pagination.total, 6);
      assert.ok(starter.analyses.every((r) => r.profile_id === account.starterProfileId));
      const unknown = await list({
        other_filters: wholeWindow,
        quality_profile_uid: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
      });
      assert.equal(unknown.pagination.total, 0);
    });

    test("metadata_filter_group: conditions AND within a group, groups OR, each operator", async () => {
      const cases: [string, unknown[][], string[]][] = [
        ["equals", [[{ field: "agent", operator: "equals", value: "agent-42" }]], ["d1", "d3"]],
        [
          "not_equals",
          [[{ field: "agent", operator: "not_equals", value: "agent-42" }]],
          ["d2", "d4", "e1", "e2"],
        ],
        ["in", [[{ field: "agent", operator: "in", value: ["agent-15", "agent-7"] }]], ["d2", "e1", "e2"]],
        ["contains", [[{ field: "campaign", operator: "contains", value: "support" }]], ["d2", "d3"]],
        ["greater_than", [[{ field: "calls", operator: "greater_than", value: 12 }]], ["d3"]],
        ["less_than", [[{ field: "calls", operator: "less_than", value: 12 }]], ["d1"]],
        [
          "inner AND",
          [
            [
              { field: "agent", operator: "equals", value: "agent-42" },
              { field: "campaign", operator: "contains", value: "support" },
            ],
          ],
          ["d3"],
        ],
        [
          "outer OR",
          [
            [{ field: "campaign", operator: "equals", value: "retention" }],
            [{ field: "calls", operator: "greater_than", value: 15 }],
          ],
          ["d1", "d3"],
        ],
        [
          "range within one group",
          [
            [
              { field: "calls", operator: "greater_than", value: 10 },
              { field: "calls", operator: "less_than", value: 15 },
            ],
          ],
          ["d2"],
        ],
      ];
      for (const [name, groups, expected] of cases) {
        const result = await list({ other_filters: wholeWindow, metadata_filter_group: groups });
        assert.deepEqual(ids(result.analyses), expected, name);
      }
    });

    test("pagination pages through the list newest first with limit, offset and total", async () => {
      const everything = await list({ other_filters: wholeWindow }, "?limit=100&offset=0");
      assert.deepEqual(everything.pagination, { limit: 100, offset: 0, total: 8 });
      const times = everything.analyses.map((r) => Date.parse(r.created_at));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
        "newest first",
      );

      const pages: Row[] = [];
      for (const offset of [0, 3, 6]) {
        const page = await list({ other_filters: wholeWindow }, `?limit=3&offset=${offset}`);
        assert.deepEqual(page.pagination, { limit: 3, offset, total: 8 });
        assert.equal(page.analyses.length, offset === 6 ? 2 : 3);
        pages.push(...page.analyses);
      }
      assert.deepEqual(
        pages.map((r) => r.analysis_id),
        everything.analyses.map((r) => r.analysis_id),
      );
      const beyond = await list({ other_filters: wholeWindow }, "?limit=3&offset=9");
      assert.deepEqual(beyond.analyses, []);
      assert.equal(beyond.pagination.total, 8);
      const defaults = await list({ other_filters: wholeWindow });
      assert.deepEqual(defaults.pagination, { limit: 20, offset: 0, total: 8 });
    });

    test("the analysis detail: categories, sub-categories and KPIs with the documented fields; no qa_score before a review", async () => {
      const d1 = dataOf(await api("GET", "/ingress/interactions/d1"));
      const detail = dataOf(await api("GET", `/analyses/${d1.analyses[0].analysis_id}`));
      assert.equal(detail.analysis_id, d1.analyses[0].analysis_id);
      assert.equal(detail.interaction_id, d1.interaction_id);
      assert.equal(detail.external_interaction_id, "d1");
      assert.equal(detail.profile_id, account.starterProfileId);
      assert.equal(typeof detail.profile_name, "string");
      assert.equal(detail.status, "completed");
      assert.equal(detail.analysis_completed_at, "2026-06-30T23:59:00.000+05:30");
      assert.equal(detail.created_at, "2026-06-30T23:59:00.000+05:30");
      assert.deepEqual(detail.metadata, { agent: "agent-42", campaign: "retention", calls: 5 });
      assert.equal(typeof detail.max_score, "number");
      assert.equal(typeof detail.criticality_adjusted_score, "number");
      assert.equal("qa_score" in detail, false);
      assert.equal(detail.final_score, detail.ai_score);
      assert.ok(detail.categories.length > 0);
      for (const category of detail.categories) {
        for (const field of [
          "name",
          "ai_score",
          "final_score",
          "criticality_adjusted_score",
          "max_score",
          "sub_categories",
        ]) {
          assert.ok(field in category, `category has ${field}`);
        }
        assert.equal("qa_score" in category, false);
        assert.equal(category.final_score, category.ai_score);
        for (const sub of category.sub_categories) {
          assert.equal(typeof sub.name, "string");
          assert.equal("qa_score" in sub, false);
          assert.ok(sub.kpis.length > 0);
          for (const kpi of sub.kpis) {
            for (const field of [
              "kpi_name",
              "ai_response",
              "ai_justification",
              "ai_score",
              "final_score",
              "criticality_adjusted_score",
              "max_score",
            ]) {
              assert.ok(field in kpi, `KPI has ${field}`);
            }
            assert.ok(["Yes", "No", "Partially", "N/A"].includes(kpi.ai_response), kpi.ai_response);
            assert.ok(kpi.ai_justification.length > 0);
            for (const unset of [
              "qa_score",
              "qa_justification",
              "qa_selected_kpi_option_uid",
              "user_comment",
            ]) {
              assert.equal(unset in kpi, false, `${unset} is omitted before a review`);
            }
            assert.equal(kpi.final_score, kpi.ai_score);
          }
        }
      }
    });

    test("after a QA review qa_score appears and final_score follows it, in the detail and the list", async () => {
      const d3 = dataOf(await api("GET", "/ingress/interactions/d3"));
      const analysisId = d3.analyses[0].analysis_id;
      const before = dataOf(await api("GET", `/analyses/${analysisId}`));
      const kpis = before.categories.flatMap((c: { sub_categories: { kpis: unknown[] }[] }) =>
        c.sub_categories.flatMap((s) => s.kpis),
      );
      const greeting = kpis.find((k: { kpi_name: string }) => k.kpi_name === "Greeting");
      assert.equal(greeting.ai_response, "No");
      assert.equal(greeting.ai_score, 0);

      const reviewed = await api("PUT", `/analyses/${analysisId}/kpis/${greeting.kpi_id}/review`, {
        body: {
          score: greeting.max_score,
          justification: "The agent did greet, off-script.",
          user_comment: "coached",
        },
      });
      dataOf(reviewed);

      const after = dataOf(await api("GET", `/analyses/${analysisId}`));
      assert.equal(after.ai_score, before.ai_score);
      assert.equal(after.qa_score, before.ai_score + greeting.max_score);
      assert.equal(after.final_score, after.qa_score);
      const kpiAfter = after.categories
        .flatMap((c: { sub_categories: { kpis: unknown[] }[] }) => c.sub_categories.flatMap((s) => s.kpis))
        .find((k: { kpi_name: string }) => k.kpi_name === "Greeting");
      assert.equal(kpiAfter.ai_score, 0);
      assert.equal(kpiAfter.qa_score, greeting.max_score);
      assert.equal(kpiAfter.final_score, greeting.max_score);
      assert.equal(kpiAfter.qa_justification, "The agent did greet, off-script.");
      assert.equal(kpiAfter.user_comment, "coached");

      const listed = (await list({ other_filters: [dateFilter("2026-07-15", "2026-07-15")] }))
        .analyses[0] as Row & {
        qa_score: number;
        ai_score: number;
      };
      assert.equal(listed.analysis_id, analysisId);
      assert.equal(listed.qa_score, after.qa_score);
      assert.equal(listed.final_score, after.qa_score);
      assert.equal(listed.ai_score, before.ai_score);
    });

    if (backend.name === "pglite") {
      test("each violated list rule answers 400 VALIDATION_ERROR with the published message", async () => {
        const missingDate =
          "Date filter is required. Provide a date filter with start_date and end_date in other_filters.";
        const july = dateFilter("2026-07-01", "2026-07-31");
        const cases: [string, unknown, string][] = [
          ["", {}, missingDate],
          ["", { other_filters: [] }, missingDate],
          ["", { other_filters: [{ field: "score", operator: "greater_than", value: 5 }] }, missingDate],
          [
            "",
            { other_filters: [{ field: "date", operator: "range", value: { start_date: "2026-07-01" } }] },
            missingDate,
          ],
          [
            "",
            { other_filters: [dateFilter("2026-07-01", "2026-08-02")] },
            "Date range must not exceed 31 days",
          ],
          [
            "",
            { other_filters: [dateFilter("2026-07-10", "2026-07-09")] },
            "start_date must be before or equal to end_date",
          ],
          [
            "",
            { other_filters: [dateFilter("2026-07-10T10:00:00Z", "2026-07-10T09:59:59Z")] },
            "start_date must be before or equal to end_date",
          ],
          [
            "",
            { other_filters: [dateFilter("07/01/2026", "2026-07-31")] },
            "Invalid start_date format. Expected: YYYY-MM-DD or ISO-8601",
          ],
          [
            "",
            { other_filters: [dateFilter("2026-02-30", "2026-03-01")] },
            "Invalid start_date format. Expected: YYYY-MM-DD or ISO-8601",
          ],
          [
            "",
            { other_filters: [dateFilter("2026-07-01", "tomorrow")] },
            "Invalid end_date format. Expected: YYYY-MM-DD or ISO-8601",
          ],
          [
            "",
            { other_filters: [dateFilter("2026-07-01", "2026-07-32")] },
            "Invalid end_date format. Expected: YYYY-MM-DD or ISO-8601",
          ],
          [
            "",
            { other_filters: [july, { field: "score", operator: "between", value: 5 }] },
            "Unsupported score filter operator",
          ],
          ["?limit=0", { other_filters: [july] }, "limit must be between 1 and 100"],
          ["?limit=101", { other_filters: [july] }, "limit must be between 1 and 100"],
          ["?limit=ten", { other_filters: [july] }, "limit must be between 1 and 100"],
          ["?offset=-1", { other_filters: [july] }, "offset must be between 0 and 10000"],
          ["?offset=10001", { other_filters: [july] }, "offset must be between 0 and 10000"],
        ];
        for (const [query, body, message] of cases) {
          assertApiError(await api("POST", `/analyses${query}`, { body }), 400, "VALIDATION_ERROR", message);
        }
        // The bounds themselves are accepted.
        const edge = await list({ other_filters: [july] }, "?limit=100&offset=10000");
        assert.deepEqual(edge.pagination, { limit: 100, offset: 10000, total: 7 });
        const one = await list({ other_filters: [july] }, "?limit=1");
        assert.equal(one.analyses.length, 1);
        assert.match(one.analyses[0]!.analysis_id, uuidPattern);
      });
    }
  });
}
