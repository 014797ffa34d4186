import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../support/httpPeers.ts";
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

const march = {
  field: "date",
  operator: "range",
  value: { start_date: "2026-03-01", end_date: "2026-03-31" },
};

function kpi(analysis: Record<string, Json>, kpiId: string): Record<string, Json> {
  const all = analysis.categories.flatMap((c: Json) => c.sub_categories.flatMap((s: Json) => s.kpis));
  const found = all.find((k: { kpi_id: string }) => k.kpi_id === kpiId);
  assert.ok(found, `no KPI ${kpiId}`);
  return found;
}

for (const backend of backends()) {
  describe(`QA review, disputes and reprocessing (${backend.name})`, () => {
    const clock = new ManualClock("2026-03-02T09:00:00Z");
    let cqa: TestCqa;
    let api: AccountApi;
    let receiver: WebhookReceiver;
    /** Option uid by KPI id and answer value, from the starter profile. */
    let optionUid: (kpiId: string, value: string) => string;

    before(async () => {
      cqa = await startTestCqa({ backend, clock });
      api = accountApi(cqa, await cqa.createAccount());
      receiver = await startWebhookReceiver(() => api.account.signingSecret);
      const profile = (await api.get(`/quality-profiles/${api.account.starterProfileId}`)).body.data;
      const kpis = profile.definition.categories.flatMap((c: Json) =>
        c.sub_categories.flatMap((s: Json) => s.kpis),
      );
      optionUid = (kpiId, value) =>
        kpis.find((k: Json) => k.id === kpiId).options.find((o: Json) => o.value === value).uid;
    });
    after(async () => {
      await receiver.close();
      await cqa.stop();
    });

    async function analysedCall(
      externalId: string,
      metadata: Record<string, string> = {},
    ): Promise<{ interactionId: string; analysisId: string }> {
      const interactionId = await ingest(api, {
        external_interaction_id: externalId,
        transcript_text: transcripts.goodCall,
        callback_url: `${receiver.url}/${externalId}`,
        metadata,
      });
      await cqa.drain();
      const detail = await interaction(api, interactionId);
      assert.equal(detail.analyses[0]?.status, "completed");
      return { interactionId, analysisId: detail.analyses[0].analysis_id };
    }

    async function finalScoresWhere(operator: string, value: number): Promise<string[]> {
      const answer = await api.post("/analyses", {
        other_filters: [march, { field: "score", operator, value }],
      });
      assert.equal(answer.status, 200, answer.text);
      return answer.body.data.analyses.map((a: { analysis_id: string }) => a.analysis_id);
    }

    function eventsTo(externalId: string): Record<string, Json>[] {
      return receiver.requests
        .filter((r) => r.path === `/${externalId}`)
        .map((r) => assertSignedWebhook(r, api.account.signingSecret));
    }

    test("a QA override sets qa_score, makes it the final score seen by the list filter, and keeps every review", async () => {
      const { analysisId } = await analysedCall("qa-override");
      assert.deepEqual(await finalScoresWhere("equals", 60).then((ids) => ids.includes(analysisId)), true);

      const reviewed = await api.put(`/analyses/${analysisId}/kpis/empathy/review`, {
        option_uid: optionUid("empathy", "No"),
        justification: "The apology was read from the script after the customer had already asked twice.",
        user_comment: "Coach on timing.",
      });
      assert.equal(reviewed.status, 200, reviewed.text);
      const detail = reviewed.body.data;
      assert.equal(detail.ai_score, 60);
      assert.equal(detail.qa_score, 50);
      assert.equal(detail.final_score, 50);
      const empathy = kpi(detail, "empathy");
      assert.deepEqual(
        [
          empathy.ai_response,
          empathy.ai_score,
          empathy.qa_score,
          empathy.final_score,
          empathy.final_response,
        ],
        ["Yes", 10, 0, 0, "No"],
      );
      assert.equal(empathy.qa_selected_kpi_option_uid, optionUid("empathy", "No"));
      assert.equal(empathy.qa_selected_kpi_option_value, "No");
      assert.match(empathy.qa_justification, /apology was read/);
      assert.equal(empathy.user_comment, "Coach on timing.");

      assert.ok((await finalScoresWhere("equals", 50)).includes(analysisId));
      assert.ok(!(await finalScoresWhere("equals", 60)).includes(analysisId));
      const listed = (await api.post("/analyses", { other_filters: [march] })).body.data.analyses.find(
        (a: { analysis_id: string }) => a.analysis_id === analysisId,
      );
      assert.deepEqual([listed.ai_score, listed.qa_score, listed.final_score], [60, 50, 50]);

      const second = await api.put(`/analyses/${analysisId}/kpis/empathy/review`, {
        score: 5,
        justification: "On a second listen the agent did acknowledge the frustration, late.",
      });
      assert.equal(second.status, 200, second.text);
      assert.equal(second.body.data.final_score, 55);
      assert.equal(kpi(second.body.data, "empathy").final_response, "Partially");
      assert.ok((await finalScoresWhere("equals", 55)).includes(analysisId));

      const noReason = await api.put(`/analyses/${analysisId}/kpis/empathy/review`, { score: 10 });
      assert.equal(noReason.status, 400);
      assert.equal(noReason.body.error.code, "VALIDATION_ERROR");
      assert.match(noReason.body.message, /justification/);

      const history = await api.get(`/analyses/${analysisId}/history`);
      assert.equal(history.status, 200, history.text);
      assert.deepEqual(
        history.body.data.reviews.map((r: { kpi_id: string; score: number; option_value: string | null }) => [
          r.kpi_id,
          r.score,
          r.option_value,
        ]),
        [
          ["empathy", 0, "No"],
          ["empathy", 5, null],
        ],
      );
      for (const review of history.body.data.reviews) assert.ok(review.reviewer);

      // A failed critical KPI zeroes its category's adjusted score, not the whole profile's.
      const critical = await api.put(`/analyses/${analysisId}/kpis/identity-verification/review`, {
        option_uid: optionUid("identity-verification", "No"),
        justification: "The agent asked for the date of birth but changed the account before it was given.",
      });
      assert.equal(critical.status, 200, critical.text);
      const scored = critical.body.data;
      const compliance = scored.categories.find(
        (c: { category_id: string }) => c.category_id === "compliance",
      );
      assert.equal(compliance.criticality_adjusted_score, 0);
      assert.equal(scored.final_score, 45);
      assert.equal(scored.criticality_adjusted_score, 45 - compliance.final_score);
    });

    test("an agent raises a dispute and an analyst resolves it with an override: both send DISPUTE webhooks", async () => {
      const { analysisId } = await analysedCall("disputed", { agent_id: "agent-priya" });
      // Agents sign in as users: their session sees their own conversations (metadata agent_id).
      const agentUser = await api.post("/users", {
        email: "priya@example.com",
        password: "correct horse battery staple",
        role: "agent",
        agent_id: "agent-priya",
      });
      assert.equal(agentUser.status, 201, agentUser.text);
      const session = await cqa.request("POST", "/api/v1/auth/login", {
        body: {
          account_id: api.account.accountId,
          email: "priya@example.com",
          password: "correct horse battery staple",
        },
      });
      assert.equal(session.status, 200, session.text);
      const analystKey = await api.post("/api-keys", { name: "QA analyst", role: "analyst" });
      assert.equal(analystKey.status, 201, analystKey.text);
      const agent: string = session.body.data.token;
      const analyst = analystKey.body.data.api_key;

      const qa = await api.put(
        `/analyses/${analysisId}/kpis/closing/review`,
        { option_uid: optionUid("closing", "No"), justification: "No closing offer heard." },
        analyst,
      );
      assert.equal(qa.status, 200, qa.text);
      assert.equal(qa.body.data.final_score, 50);

      const forbidden = await api.put(
        `/analyses/${analysisId}/kpis/closing/review`,
        { option_uid: optionUid("closing", "Yes"), justification: "I did close properly." },
        agent,
      );
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.error.code, "FORBIDDEN");

      const raised = await api.post(
        `/analyses/${analysisId}/disputes`,
        {
          kpi_id: "closing",
          reason: "I asked if there was anything else and said goodbye: listen to the last minute.",
        },
        agent,
      );
      assert.equal(raised.status, 201, raised.text);
      const disputeId = raised.body.data.dispute_id;
      assert.equal(raised.body.data.status, "open");

      const agentResolves = await api.post(
        `/analyses/${analysisId}/disputes/${disputeId}/resolve`,
        { resolution: "ACCEPTED" },
        agent,
      );
      assert.equal(agentResolves.status, 403);

      const resolved = await api.post(
        `/analyses/${analysisId}/disputes/${disputeId}/resolve`,
        {
          resolution: "ACCEPTED",
          comment: "The closing is there at 04:12.",
          override: {
            kpi_id: "closing",
            option_uid: optionUid("closing", "Yes"),
            justification: "Closing confirmed on review of the dispute.",
          },
        },
        analyst,
      );
      assert.equal(resolved.status, 200, resolved.text);
      assert.equal(resolved.body.data.status, "resolved");
      assert.equal(resolved.body.data.updated_score, 60);
      const again = await api.post(
        `/analyses/${analysisId}/disputes/${disputeId}/resolve`,
        { resolution: "REJECTED" },
        analyst,
      );
      assert.equal(again.status, 400, "a dispute is resolved once");

      await cqa.drain();
      const disputeEvents = eventsTo("disputed").filter((b) => b.event.startsWith("INTERACTION_DISPUTE_"));
      assert.deepEqual(
        disputeEvents.map((b) => [b.event, b.data]),
        [
          ["INTERACTION_DISPUTE_RAISED", { analysisId, disputeId }],
          [
            "INTERACTION_DISPUTE_RESOLVED",
            { analysisId, disputeId, resolution: "ACCEPTED", updatedScore: 60 },
          ],
        ],
      );
      const detail = (await api.get(`/analyses/${analysisId}`)).body.data;
      assert.equal(detail.final_score, 60);
      assert.equal(kpi(detail, "closing").qa_score, 10);

      const history = (await api.get(`/analyses/${analysisId}/history`)).body.data;
      assert.equal(history.reviews.length, 2, "the QA review and the dispute's override are both kept");
      assert.equal(history.disputes.length, 1);
      assert.equal(history.disputes[0].resolution, "ACCEPTED");

      // A rejected dispute reports the score as it stands.
      const second = await api.post(
        `/analyses/${analysisId}/disputes`,
        { reason: "The whole score is unfair." },
        agent,
      );
      assert.equal(second.status, 201, second.text);
      const rejected = await api.post(
        `/analyses/${analysisId}/disputes/${second.body.data.dispute_id}/resolve`,
        { resolution: "REJECTED", comment: "Scores stand." },
        analyst,
      );
      assert.equal(rejected.status, 200, rejected.text);
      await cqa.drain();
      const last = eventsTo("disputed").at(-1);
      assert.equal(last?.event, "INTERACTION_DISPUTE_RESOLVED");
      assert.deepEqual(last?.data, {
        analysisId,
        disputeId: second.body.data.dispute_id,
        resolution: "REJECTED",
        updatedScore: 60,
      });
    });

    test("reprocessing keeps the analysis ids and the reviews, and reports the new result under a new deliveryId", async () => {
      const { interactionId, analysisId } = await analysedCall("reprocessed");
      const reviewed = await api.put(`/analyses/${analysisId}/kpis/greeting/review`, {
        option_uid: optionUid("greeting", "Partially"),
        justification: "Greeting without the company name.",
      });
      assert.equal(reviewed.status, 200, reviewed.text);

      const answer = await api.post(`/ingress/interactions/${interactionId}/reprocess`);
      assert.equal(answer.status, 202, answer.text);
      assert.equal(answer.body.data.revision, 2);
      await cqa.drain();

      const detail = await interaction(api, interactionId);
      assert.equal(detail.status, "completed");
      assert.deepEqual(
        detail.analyses.map((a: { analysis_id: string; status: string }) => [a.analysis_id, a.status]),
        [[analysisId, "completed"]],
      );
      const analysis = (await api.get(`/analyses/${analysisId}`)).body.data;
      assert.equal(analysis.qa_score, 55);
      assert.equal(analysis.final_score, 55);
      assert.equal(kpi(analysis, "greeting").qa_score, 5);

      const completed = eventsTo("reprocessed").filter((b) => b.event === "INTERACTION_ANALYSIS_COMPLETED");
      assert.equal(completed.length, 2, "one COMPLETED per processing run");
      assert.notEqual(completed[0]?.deliveryId, completed[1]?.deliveryId);
      assert.equal(completed[1]?.data.analysisId, analysisId);
      assert.equal(completed[1]?.data.qaScore, 55);
      assert.equal(completed[1]?.data.finalScore, 55);
    });

    test("reprocessing after a profile edit scores the same analysis with the current version", async () => {
      const own = accountApi(cqa, await cqa.createAccount());
      const id = await ingest(own, {
        external_interaction_id: "reprocess-v2",
        transcript_text: transcripts.goodCall,
      });
      await cqa.drain();
      const analysisId = (await interaction(own, id)).analyses[0].analysis_id;
      const profile = (await own.get(`/quality-profiles/${own.account.starterProfileId}`)).body.data;
      const definition = profile.definition;
      const greeting = definition.categories[0].sub_categories[0].kpis[0];
      greeting.options = greeting.options.map((o: { score: number }) => ({ ...o, score: o.score * 2 }));
      delete greeting.max_score;
      const saved = await own.put(`/quality-profiles/${own.account.starterProfileId}`, definition);
      assert.equal(saved.status, 200, saved.text);

      assert.equal((await own.get(`/analyses/${analysisId}`)).body.data.profile_version, 1);
      assert.equal((await own.post(`/ingress/interactions/${id}/reprocess`)).status, 202);
      await cqa.drain();
      const analysis = (await own.get(`/analyses/${analysisId}`)).body.data;
      assert.equal(analysis.status, "completed");
      assert.equal(analysis.profile_version, 2);
      assert.equal(analysis.max_score, 70);
      assert.equal(kpi(analysis, "greeting").max_score, 20);
    });

    test("reprocessing after the rules stop selecting a profile leaves no analysis stuck in queued", async () => {
      const own = accountApi(cqa, await cqa.createAccount());
      const id = await ingest(own, {
        external_interaction_id: "reprocess-unrouted",
        transcript_text: transcripts.goodCall,
      });
      await cqa.drain();
      const before = (await interaction(own, id)).analyses[0];
      const scored = (await own.get(`/analyses/${before.analysis_id}`)).body.data;
      assert.equal(
        (await own.patch(`/assignment-rules/${own.account.catchAllRuleId}`, { enabled: false })).status,
        200,
      );

      assert.equal((await own.post(`/ingress/interactions/${id}/reprocess`)).status, 202);
      await cqa.drain();
      clock.advance(3_600_000);
      await cqa.drain();
      const detail = await interaction(own, id);
      assert.equal(detail.status, "completed");
      assert.match(detail.not_analysed_reason, /no enabled assignment rules/);
      assert.equal(detail.analyses.length, 1);
      const kept = (await own.get(`/analyses/${before.analysis_id}`)).body.data;
      assert.equal(kept.status, "completed", "the earlier result stands; it is not left queued");
      assert.equal(kept.final_score, scored.final_score);
    });
  });
}
