import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { startWebhookReceiver } from "../support/httpPeers.ts";
import { backends, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import {
  type AccountApi,
  accountApi,
  assertSignedWebhook,
  ingest,
  interaction,
  type Json,
  transcripts,
} from "./pipelineSupport.ts";

type Kpi = Record<string, Json>;

/** Every KPI of an analysis detail, by id. */
function kpisOf(analysis: Record<string, Json>): Map<string, Kpi> {
  const kpis: Kpi[] = analysis.categories.flatMap((c: Json) => c.sub_categories.flatMap((s: Json) => s.kpis));
  return new Map(kpis.map((k) => [k.kpi_id, k]));
}

for (const backend of backends()) {
  describe(`scoring with quality profiles (${backend.name})`, () => {
    const clock = new ManualClock("2026-03-02T09:00:00Z");
    let cqa: TestCqa;
    let api: AccountApi;
    before(async () => {
      cqa = await startTestCqa({ backend, clock });
      api = accountApi(cqa, await cqa.createAccount());
    });
    after(() => cqa.stop());

    /** Ingests a conversation, runs the pipeline and returns its one analysis in detail. */
    async function analyse(externalId: string, item: Record<string, unknown>): Promise<Record<string, Json>> {
      await ingest(api, { external_interaction_id: externalId, ...item });
      await cqa.drain();
      const detail = await interaction(api, externalId);
      assert.equal(detail.status, "completed", JSON.stringify(detail));
      assert.equal(detail.analyses.length, 1);
      const answer = await api.get(`/analyses/${detail.analyses[0].analysis_id}`);
      assert.equal(answer.status, 200, answer.text);
      return answer.body.data;
    }

    test("the starter profile gives a well-handled call full marks, with a reason for every KPI", async () => {
      const analysis = await analyse("good-call", {
        transcript_text: transcripts.goodCall,
        duration_seconds: 240,
      });
      assert.equal(analysis.status, "completed");
      assert.equal(analysis.profile_name, "Starter quality profile");
      assert.equal(analysis.max_score, 60);
      assert.equal(analysis.final_score, 60);
      assert.equal(analysis.ai_score, 60);
      assert.equal(analysis.criticality_adjusted_score, 60);
      assert.equal(analysis.qa_score, undefined);
      for (const [id, kpi] of kpisOf(analysis)) {
        assert.equal(kpi.ai_response, "Yes", `${id}: ${kpi.ai_justification}`);
        assert.ok(kpi.ai_justification.length > 10, id);
        assert.ok(kpi.evidence.length > 0 || id === "prohibited-language", `${id} cites the transcript`);
      }
      assert.match(kpisOf(analysis).get("hold-etiquette")?.ai_justification, /thank you for holding/i);
    });

    test("a prohibited phrase fails the fatal KPI: criticality_adjusted_score is 0 while final_score is not", async () => {
      const receiver = await startWebhookReceiver(() => api.account.signingSecret);
      try {
        const analysis = await analyse("profane-call", {
          transcript_text: transcripts.profaneCall,
          callback_url: receiver.url,
        });
        const kpis = kpisOf(analysis);
        const prohibited = kpis.get("prohibited-language")!;
        assert.equal(prohibited.ai_response, "No");
        assert.equal(prohibited.criticality, "fatal");
        assert.match(prohibited.ai_justification, /shit|not my problem/i);
        assert.ok(prohibited.ai_suggestion, "a failed KPI suggests what to do instead");
        assert.match(prohibited.evidence[0].quote, /shit|not my problem/i);

        assert.ok(analysis.final_score > 0, `final_score ${analysis.final_score}`);
        assert.equal(analysis.criticality_adjusted_score, 0);
        for (const category of analysis.categories) {
          assert.equal(
            category.criticality_adjusted_score,
            0,
            `${category.category_id} is zeroed by the fatal KPI`,
          );
        }
        const greeting = kpis.get("greeting")!;
        assert.equal(greeting.ai_response, "Yes");
        assert.equal(greeting.final_score, 10);
        assert.equal(greeting.criticality_adjusted_score, 0);

        const completed = receiver.requests
          .map((r) => assertSignedWebhook(r, api.account.signingSecret))
          .find((b) => b.event === "INTERACTION_ANALYSIS_COMPLETED");
        assert.ok(completed);
        assert.equal(completed.data.finalScore, analysis.final_score);
        assert.equal(completed.data.criticalityAdjustedScore, 0);
        const fatal = completed.data.kpiResults.find(
          (k: { kpiId: string }) => k.kpiId === "prohibited-language",
        );
        assert.equal(fatal.aiResponse, "No");
      } finally {
        await receiver.close();
      }
    });

    test("an N/A KPI leaves the denominator: max_score drops by its points", async () => {
      const analysis = await analyse("chat-without-hold", {
        channel_type: "CHAT",
        transcript_text: transcripts.shortChat,
      });
      const hold = kpisOf(analysis).get("hold-etiquette")!;
      assert.equal(hold.ai_response, "N/A");
      assert.equal(hold.applicable, false);
      assert.equal(hold.ai_score, 0);
      assert.equal(analysis.max_score, 50, "60 points minus the 10 of the N/A KPI");
      const softSkills = analysis.categories.find(
        (c: { category_id: string }) => c.category_id === "soft-skills",
      );
      assert.equal(softSkills.max_score, 10);
      const applicable = [...kpisOf(analysis).values()].filter((k) => k.applicable);
      assert.equal(applicable.length, 5);
      assert.equal(
        analysis.final_score,
        applicable.reduce((sum, k) => sum + k.final_score, 0),
      );
      assert.ok(analysis.final_score < analysis.max_score, "no empathy phrase in this chat");
    });

    test("editing a profile makes version 2: earlier analyses keep version 1, new ones use version 2", async () => {
      const before = await analyse("before-edit", { transcript_text: transcripts.goodCall });
      assert.equal(before.profile_version, 1);

      const current = await api.get(`/quality-profiles/${api.account.starterProfileId}`);
      assert.equal(current.status, 200, current.text);
      assert.equal(current.body.data.version, 1);
      const definition = current.body.data.definition;
      definition.categories
        .find((c: { id: string }) => c.id === "closing")
        .sub_categories.push({
          id: "next-steps",
          name: "Next steps",
          kpis: [
            {
              id: "next-steps",
              name: "Next steps explained",
              question: "Did the agent tell the customer what happens next?",
              options: [
                { value: "Yes", label: "Yes", score: 5 },
                { value: "No", label: "No", score: 0 },
              ],
              evaluator: {
                type: "phrase_present",
                phrases: ["you will receive", "what happens next"],
                speaker: "agent",
              },
            },
          ],
        });
      const saved = await api.put(`/quality-profiles/${api.account.starterProfileId}`, definition);
      assert.equal(saved.status, 200, saved.text);
      assert.equal(saved.body.data.version, 2);

      const afterEdit = await analyse("after-edit", { transcript_text: transcripts.goodCall });
      assert.equal(afterEdit.profile_version, 2);
      assert.equal(afterEdit.max_score, 65);
      assert.equal(kpisOf(afterEdit).get("next-steps")?.ai_response, "No");

      const old = (await api.get(`/analyses/${before.analysis_id}`)).body.data;
      assert.equal(old.profile_version, 1);
      assert.equal(old.max_score, 60);
      assert.equal(kpisOf(old).has("next-steps"), false, "an earlier analysis is shown with its own version");

      const history = await api.get(`/quality-profiles/${api.account.starterProfileId}?version=1`);
      assert.equal(history.status, 200);
      assert.equal(history.body.data.version, 1);
      assert.deepEqual(
        history.body.data.versions.map((v: { version: number }) => v.version),
        [1, 2],
      );
    });
  });
}
