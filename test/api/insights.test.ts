// cqa additions behind the dashboard: insights (trends by period, by agent / team, by KPI; pass rates;
// lowest scores) and metadata fields — on every storage backend, with row scopes respected.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { accountPath, createUser, login, roomyLimits } from "../security/tenants.ts";
import { backends, type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";

const good =
  "Agent: Good morning, thank you for calling. Could you confirm your date of birth?\nCustomer: 1 May 1980.\n" +
  "Agent: I understand, I'm sorry to hear that. Is there anything else I can help you with?\nCustomer: No.\n" +
  "Agent: Thank you for calling, have a great day.";
const bad = "Agent: What do you want?\nCustomer: My card is blocked.\nAgent: That's not my problem, shut up.";

for (const backend of backends()) {
  describe(`insights and metadata fields (${backend.name})`, () => {
    const clock = new ManualClock("2026-03-02T09:00:00Z");
    let cqa: TestCqa;
    let account: CreatedAccount;
    const base = () => accountPath(account.accountId);
    const get = (path: string, auth: { apiKey?: string; bearer?: string } = { apiKey: account.apiKey }) =>
      cqa.request("GET", `${base()}${path}`, auth);

    before(async () => {
      cqa = await startTestCqa({ backend, clock });
      account = await cqa.createAccount({ name: "Insights", timezone: "Asia/Kolkata", limits: roomyLimits });
      const calls: [string, string, string, string, string][] = [
        // id, day (UTC 09:00), transcript, agent, team
        ["i1", "2026-03-01", good, "agent-1", "north"],
        ["i2", "2026-03-01", bad, "agent-2", "south"],
        ["i3", "2026-03-02", good, "agent-1", "north"],
        ["i4", "2026-03-02", bad, "agent-1", "north"],
      ];
      for (const [id, day, text, agent, team] of calls) {
        clock.set(`${day}T09:00:00Z`);
        const answer = await cqa.request("POST", `${base()}/ingress/interactions`, {
          apiKey: account.apiKey,
          body: {
            external_interaction_id: id,
            channel_type: "CHAT",
            transcript_text: text,
            metadata: { agent_id: agent, team },
          },
        });
        assert.equal(answer.status, 201, answer.text);
        await cqa.drain();
      }
      clock.set("2026-03-02T12:00:00Z");
    });

    after(async () => {
      await cqa?.stop();
    });

    test("trend per day, groups per agent, pass rates per KPI and the lowest scores", async () => {
      const answer = await get("/insights?start_date=2026-03-01&end_date=2026-03-02&group_by=agent_id");
      assert.equal(answer.status, 200, answer.text);
      const data = answer.body.data;
      assert.equal(data.interval, "day");
      assert.equal(data.summary.analyses, 4);
      assert.deepEqual(
        data.trend.map((t: { period: string; analyses: number }) => [t.period, t.analyses]),
        [
          ["2026-03-01", 2],
          ["2026-03-02", 2],
        ],
      );
      const agents = data.groups.map((g: { value: string; analyses: number }) => [g.value, g.analyses]);
      assert.deepEqual(agents, [
        ["agent-1", 3],
        ["agent-2", 1],
      ]);
      const agent2 = data.groups.find((g: { value: string }) => g.value === "agent-2");
      const lowest = data.lowest[0];
      assert.equal(lowest.group_value === "agent-2" || lowest.group_value === "agent-1", true);
      assert.ok(
        lowest.score_percent <= agent2.average_score_percent + 0.1 || lowest.group_value !== "agent-2",
      );
      assert.ok(
        data.lowest.every((l: { score_percent: number }, i: number, all: { score_percent: number }[]) =>
          i === 0 ? true : all[i - 1]!.score_percent <= l.score_percent,
        ),
      );
      const greeting = data.kpis.find((k: { kpi_name: string }) => /greeting/i.test(k.kpi_name));
      assert.ok(
        greeting,
        `a greeting KPI: ${JSON.stringify(data.kpis.map((k: { kpi_name: string }) => k.kpi_name))}`,
      );
      assert.equal(greeting.evaluated, 4);
      assert.equal(greeting.passed + greeting.partially + greeting.failed + greeting.not_applicable, 4);
      assert.ok(greeting.pass_rate !== null && greeting.pass_rate >= 0 && greeting.pass_rate <= 100);
      assert.deepEqual(
        greeting.trend.map((t: { period: string; applicable: number }) => [t.period, t.applicable]),
        [
          ["2026-03-01", 2],
          ["2026-03-02", 2],
        ],
        "a pass-rate trend per KPI",
      );
      assert.equal(
        greeting.trend.reduce((n: number, t: { passed: number }) => n + t.passed, 0),
        greeting.passed,
      );
    });

    test("a QA override changes the KPI's pass rate", async () => {
      const before = (await get("/insights?start_date=2026-03-01&end_date=2026-03-02")).body.data;
      const target = before.lowest[0];
      const detail = (await get(`/analyses/${target.analysis_id}`)).body.data;
      const kpi = detail.categories
        .flatMap((c: { sub_categories: { kpis: unknown[] }[] }) => c.sub_categories.flatMap((s) => s.kpis))
        .find((k: { ai_response: string }) => k.ai_response === "No");
      assert.ok(kpi, "the lowest-scoring conversation has a failed KPI");
      const profile = (await get(`/quality-profiles/${detail.profile_id}?version=${detail.profile_version}`))
        .body.data;
      const options = profile.definition.categories
        .flatMap((c: { sub_categories: { kpis: unknown[] }[] }) => c.sub_categories.flatMap((s) => s.kpis))
        .find((k: { id: string }) => k.id === kpi.kpi_id).options;
      const yes = options.find((o: { value: string }) => o.value === "Yes");
      const reviewed = await cqa.request(
        "PUT",
        `${base()}/analyses/${target.analysis_id}/kpis/${kpi.kpi_id}/review`,
        {
          apiKey: account.apiKey,
          body: { option_uid: yes.uid, justification: "The agent did this in another words" },
        },
      );
      assert.equal(reviewed.status, 200, reviewed.text);
      const afterReview = (await get("/insights?start_date=2026-03-01&end_date=2026-03-02")).body.data;
      const was = before.kpis.find((k: { kpi_id: string }) => k.kpi_id === kpi.kpi_id);
      const now = afterReview.kpis.find((k: { kpi_id: string }) => k.kpi_id === kpi.kpi_id);
      assert.equal(now.passed, was.passed + 1);
      assert.equal(afterReview.summary.reviewed, before.summary.reviewed + 1);
    });

    test("a scoped user and an agent see only their conversations in insights", async () => {
      const north = await createUser(cqa, account.accountId, account.apiKey, {
        role: "analyst",
        metadata_scope: { team: ["south"] },
      });
      const scoped = await get("/insights?start_date=2026-03-01&end_date=2026-03-02", {
        bearer: await login(cqa, account.accountId, north),
      });
      assert.equal(scoped.status, 200, scoped.text);
      assert.equal(scoped.body.data.summary.analyses, 1);
      assert.deepEqual(
        scoped.body.data.groups.map((g: { value: string }) => g.value),
        ["agent-2"],
      );
      const agent = await createUser(cqa, account.accountId, account.apiKey, {
        role: "agent",
        agent_id: "agent-1",
      });
      const own = await get("/insights?start_date=2026-03-01&end_date=2026-03-02&group_by=team", {
        bearer: await login(cqa, account.accountId, agent),
      });
      assert.equal(own.body.data.summary.analyses, 3);
      assert.ok(own.body.data.lowest.every((l: { group_value: string }) => l.group_value === "north"));
    });

    test("the range is checked and defaults to the last 30 days", async () => {
      const reversed = await get("/insights?start_date=2026-03-02&end_date=2026-03-01");
      assert.equal(reversed.status, 400);
      assert.equal(reversed.body.error.code, "VALIDATION_ERROR");
      const tooLong = await get("/insights?start_date=2024-01-01&end_date=2026-03-01");
      assert.equal(tooLong.status, 400);
      assert.match(tooLong.body.message, /366 days/);
      const fallback = await get("/insights");
      assert.equal(fallback.status, 200, fallback.text);
      assert.equal(fallback.body.data.end_date, "2026-03-02");
      assert.equal(fallback.body.data.start_date, "2026-02-01");
      assert.equal(fallback.body.data.summary.analyses, 4);
    });

    test("metadata fields: discovered keys, create, change, list, delete", async () => {
      const first = await get("/metadata-fields");
      assert.equal(first.status, 200, first.text);
      assert.deepEqual(first.body.data.discovered.map((d: { key: string }) => d.key).sort(), [
        "agent_id",
        "team",
      ]);
      const created = await cqa.request("POST", `${base()}/metadata-fields`, {
        apiKey: account.apiKey,
        body: { key: "team", label: "Team", access_controlled: true },
      });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(
        { ...created.body.data, created_at: undefined, updated_at: undefined },
        {
          key: "team",
          label: "Team",
          type: "string",
          enabled: true,
          filterable: true,
          access_controlled: true,
          created_at: undefined,
          updated_at: undefined,
        },
      );
      const patched = await cqa.request("PATCH", `${base()}/metadata-fields/team`, {
        apiKey: account.apiKey,
        body: { filterable: false },
      });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.data.filterable, false);
      assert.equal(patched.body.data.label, "Team");
      const listed = (await get("/metadata-fields")).body.data;
      assert.deepEqual(
        listed.metadata_fields.map((f: { key: string }) => f.key),
        ["team"],
      );
      assert.deepEqual(
        listed.discovered.map((d: { key: string }) => d.key),
        ["agent_id"],
      );
      const missing = await cqa.request("PATCH", `${base()}/metadata-fields/nope`, {
        apiKey: account.apiKey,
        body: { label: "x" },
      });
      assert.equal(missing.status, 404);
      const deleted = await cqa.request("DELETE", `${base()}/metadata-fields/team`, {
        apiKey: account.apiKey,
      });
      assert.equal(deleted.status, 200, deleted.text);
      assert.equal((await get("/metadata-fields")).body.data.metadata_fields.length, 0);
    });

    test("analysts may read metadata fields but not change them", async () => {
      const analyst = await createUser(cqa, account.accountId, account.apiKey, { role: "analyst" });
      const token = await login(cqa, account.accountId, analyst);
      assert.equal((await get("/metadata-fields", { bearer: token })).status, 200);
      const refused = await cqa.request("POST", `${base()}/metadata-fields`, {
        bearer: token,
        body: { key: "region" },
      });
      assert.equal(refused.status, 403);
    });
  });
}
