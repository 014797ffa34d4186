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

for (const backend of backends()) {
  describe(`routing by assignment rules (${backend.name})`, () => {
    const clock = new ManualClock("2026-03-02T09:00:00Z");
    let cqa: TestCqa;
    before(async () => {
      cqa = await startTestCqa({ backend, clock });
    });
    after(() => cqa.stop());

    /** An account whose catch-all rule is replaced by "escalated voice calls → starter profile". */
    async function escalationsOnly(): Promise<{ api: AccountApi; ruleId: string }> {
      const api = accountApi(cqa, await cqa.createAccount());
      assert.equal(
        (await api.patch(`/assignment-rules/${api.account.catchAllRuleId}`, { enabled: false })).status,
        200,
      );
      const rule = await api.post("/assignment-rules", {
        name: "Escalated voice calls",
        priority: 10,
        conditions: {
          all: [
            { field: "channel_type", operator: "eq", value: "VOICE" },
            { field: "metadata.escalated", operator: "eq", value: true },
          ],
        },
        profile_ids: [api.account.starterProfileId],
      });
      assert.equal(rule.status, 201, rule.text);
      return { api, ruleId: rule.body.data.id };
    }

    test("an interaction no rule matches completes unanalysed, saying why, with the routing trace", async () => {
      const { api, ruleId } = await escalationsOnly();
      const receiver = await startWebhookReceiver(() => api.account.signingSecret);
      try {
        const id = await ingest(api, {
          external_interaction_id: "chat-not-escalated",
          channel_type: "CHAT",
          transcript_text: transcripts.shortChat,
          metadata: { escalated: false, region: "north" },
          callback_url: receiver.url,
        });
        await cqa.drain();
        const detail = await interaction(api, id);
        assert.equal(detail.status, "completed");
        assert.deepEqual(detail.analyses, []);
        assert.match(detail.not_analysed_reason, /no rule matched/i);
        assert.match(detail.not_analysed_reason, /Escalated voice calls/);
        assert.equal(detail.routing.not_analysed_reason, "no_rule_matched");
        assert.deepEqual(detail.routing.profile_ids, []);
        const trace = detail.routing.trace;
        assert.deepEqual(
          trace.map((t: { rule_id: string; outcome: string }) => [t.rule_id, t.outcome]),
          [
            [ruleId, "not_matched"],
            [api.account.catchAllRuleId, "disabled"],
          ],
        );
        assert.match(trace[0].reason, /channel_type/);
        assert.equal(trace[0].rule_name, "Escalated voice calls");
        const analyses = await api.post("/analyses", {
          other_filters: [
            { field: "date", operator: "range", value: { start_date: "2026-03-01", end_date: "2026-03-31" } },
          ],
        });
        assert.equal(analyses.body.data.pagination.total, 0);
        const events = receiver.requests.map((r) => assertSignedWebhook(r, api.account.signingSecret).event);
        assert.deepEqual(
          events,
          ["INTERACTION_INGESTED"],
          "no analysis events for an unanalysed interaction",
        );
      } finally {
        await receiver.close();
      }
    });

    test("routing traces in the interaction detail and the dry run use snake_case keys, like the rest of the REST API", async () => {
      const { api } = await escalationsOnly();
      const id = await ingest(api, {
        external_interaction_id: "snake-case",
        transcript_text: transcripts.shortChat,
      });
      await cqa.drain();
      const keysOf = (value: unknown): string[] =>
        Array.isArray(value)
          ? value.flatMap(keysOf)
          : value && typeof value === "object"
            ? Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)])
            : [];
      const routing = (await interaction(api, id)).routing;
      const dryRun = (await api.post("/assignment-rules/dry-run", { interaction_ids: [id] })).body.data;
      for (const key of [...keysOf(routing), ...keysOf(dryRun)]) assert.match(key, /^[a-z0-9_]+$/, key);
      assert.deepEqual(Object.keys(routing.trace[0]).sort(), ["outcome", "reason", "rule_id", "rule_name"]);
    });

    test("a rule sampling 0 % analyses nothing and says the interaction was sampled out", async () => {
      const api = accountApi(cqa, await cqa.createAccount());
      const sampled = await api.patch(`/assignment-rules/${api.account.catchAllRuleId}`, {
        sampling_percent: 0,
      });
      assert.equal(sampled.status, 200, sampled.text);
      for (const n of [1, 2, 3]) {
        await ingest(api, { external_interaction_id: `sampled-${n}`, transcript_text: transcripts.goodCall });
      }
      await cqa.drain();
      for (const n of [1, 2, 3]) {
        const detail = await interaction(api, `sampled-${n}`);
        assert.equal(detail.status, "completed");
        assert.deepEqual(detail.analyses, []);
        assert.match(detail.not_analysed_reason, /sampled out/i);
        assert.equal(detail.routing.not_analysed_reason, "sampled_out");
        const [step] = detail.routing.trace;
        assert.equal(step.outcome, "sampled_out");
        assert.equal(typeof step.sampling_bucket, "number");
        assert.match(step.reason, /0% sample/);
      }
    });

    test("a rule edited between two interactions applies to the next one at once (the worker keeps no stale rules)", async () => {
      const api = accountApi(cqa, await cqa.createAccount());
      await ingest(api, { external_interaction_id: "before-edit", transcript_text: transcripts.goodCall });
      await cqa.drain();
      assert.equal((await interaction(api, "before-edit")).analyses.length, 1);
      const edited = await api.patch(`/assignment-rules/${api.account.catchAllRuleId}`, {
        sampling_percent: 0,
      });
      assert.equal(edited.status, 200, edited.text);
      await ingest(api, { external_interaction_id: "after-edit", transcript_text: transcripts.goodCall });
      await cqa.drain();
      const after = await interaction(api, "after-edit");
      assert.deepEqual(after.analyses, []);
      assert.equal(after.routing.not_analysed_reason, "sampled_out");
      const undone = await api.patch(`/assignment-rules/${api.account.catchAllRuleId}`, {
        sampling_percent: 100,
      });
      assert.equal(undone.status, 200, undone.text);
      await ingest(api, { external_interaction_id: "after-undo", transcript_text: transcripts.goodCall });
      await cqa.drain();
      assert.equal((await interaction(api, "after-undo")).analyses.length, 1);
    });

    test("a dry run tells per interaction which profiles it would get and why, and changes nothing", async () => {
      const { api, ruleId } = await escalationsOnly();
      const chatId = await ingest(api, {
        external_interaction_id: "dry-chat",
        channel_type: "CHAT",
        transcript_text: transcripts.shortChat,
      });
      const callId = await ingest(api, {
        external_interaction_id: "dry-escalated-call",
        transcript_text: transcripts.goodCall,
        metadata: { escalated: true },
      });
      await cqa.drain();
      const chatBefore = await interaction(api, chatId);
      const callBefore = await interaction(api, callId);
      assert.deepEqual(chatBefore.analyses, []);
      assert.equal(callBefore.analyses.length, 1);

      const snapshot = async () => ({
        rules: (await api.get("/assignment-rules")).body.data.assignment_rules,
        jobs: (await cqa.db.query("SELECT count(*)::int AS n FROM jobs")).rows,
        outbox: (await cqa.db.query("SELECT count(*)::int AS n FROM outbox")).rows,
        analyses: (await cqa.db.query("SELECT id, status, profile_version FROM analyses ORDER BY id")).rows,
        interactions: [await interaction(api, chatId), await interaction(api, callId)],
      });
      const before = await snapshot();

      const current = await api.post("/assignment-rules/dry-run", { interaction_ids: ["dry-chat", callId] });
      assert.equal(current.status, 200, current.text);
      assert.equal(current.body.data.evaluated, 2);
      assert.equal(current.body.data.would_be_analysed, 1);
      const byExternal = (answer: typeof current) =>
        new Map(
          answer.body.data.results.map((r: { external_interaction_id: string }) => [
            r.external_interaction_id,
            r,
          ]),
        ) as Map<string, Record<string, Json>>;
      const now = byExternal(current);
      assert.deepEqual(now.get("dry-escalated-call")?.profiles, [
        { profile_id: api.account.starterProfileId, name: "Starter quality profile", archived: false },
      ]);
      assert.deepEqual(now.get("dry-escalated-call")?.matched_rule_ids, [ruleId]);
      assert.match(now.get("dry-escalated-call")?.summary, /Matched rule "Escalated voice calls"/);
      assert.deepEqual(now.get("dry-chat")?.profiles, []);
      assert.equal(now.get("dry-chat")?.not_analysed_reason, "no_rule_matched");
      assert.match(now.get("dry-chat")?.trace[0].reason, /channel_type/);

      // A candidate rule: what would change if chats were scored too?
      const candidate = await api.post("/assignment-rules/dry-run", {
        interaction_ids: [chatId, callId],
        rule: {
          name: "All chats",
          priority: 20,
          conditions: [{ field: "channel_type", operator: "eq", value: "CHAT" }],
          profile_ids: [api.account.starterProfileId],
        },
      });
      assert.equal(candidate.status, 200, candidate.text);
      assert.equal(candidate.body.data.would_be_analysed, 2);
      const withRule = byExternal(candidate);
      assert.deepEqual(
        withRule.get("dry-chat")?.profiles.map((p: { profile_id: string }) => p.profile_id),
        [api.account.starterProfileId],
      );
      const chatTrace = withRule.get("dry-chat")?.trace as {
        rule_name: string;
        outcome: string;
        reason: string;
      }[];
      const allChats = chatTrace.find((t) => t.rule_name === "All chats");
      assert.equal(allChats?.outcome, "matched");
      assert.match(String(allChats?.reason), /channel_type/);

      // Replacing the escalation rule with one that needs a region drops the call.
      const replaced = await api.post("/assignment-rules/dry-run", {
        interaction_ids: [callId],
        replace_rule_id: ruleId,
        rule: {
          name: "Escalated voice calls (north only)",
          priority: 10,
          conditions: [
            { field: "metadata.escalated", operator: "eq", value: true },
            { field: "metadata.region", operator: "eq", value: "north" },
          ],
          profile_ids: [api.account.starterProfileId],
        },
      });
      assert.equal(replaced.status, 200, replaced.text);
      assert.equal(replaced.body.data.would_be_analysed, 0);
      assert.match(replaced.body.data.results[0].summary, /metadata\.region/);

      assert.deepEqual(await snapshot(), before, "a dry run changes nothing");
    });
  });
}
