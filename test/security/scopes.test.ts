import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startLocalServer } from "../support/httpPeers.ts";
import { startTestCqa, type TestCqa, type TestResponse } from "../support/testCqa.ts";
import { accountPath, chat, createKey, createUser, listAnalyses, login, roomyLimits } from "./tenants.ts";

/** The conversations of the account: who handled them and where. */
const conversations = {
  "north-42": { region: "north", agent_id: "agent-42" },
  "north-7": { region: "north", agent_id: "agent-7" },
  "south-42": { region: "south", agent_id: "agent-42" },
  "south-7": { region: "south", agent_id: "agent-7" },
  unlabelled: {},
  // Ingested after the batch: the account's most recent conversation is someone else's.
  "late-7": { region: "north", agent_id: "agent-7" },
} as const;
type Name = keyof typeof conversations;
const regionOf = (name: Name) => (conversations[name] as { region?: string }).region;
const names = Object.keys(conversations) as Name[];

interface Stored {
  interactionId: string;
  externalId: string;
  analysisId: string;
}

describe("row scopes: metadata access scopes and agents' own conversations", () => {
  let cqa: TestCqa;
  let webhookPeer: LocalServer;
  let accountId: string;
  let adminKey: string;
  let batchId: string;
  const stored = {} as Record<Name, Stored>;
  let north: string;
  let agent42: string;
  let northAgent42: string;
  let agent42UserId: string;

  const base = () => accountPath(accountId);
  /** Which of our conversations an answer shows, by their external ids. */
  const shown = (answer: TestResponse, field = "external_interaction_id"): Name[] => {
    const found = new Set<Name>();
    for (const name of names)
      if (answer.text.includes(`"${field}":"${stored[name].externalId}"`)) found.add(name);
    return names.filter((n) => found.has(n));
  };

  before(async () => {
    cqa = await startTestCqa();
    webhookPeer = await startLocalServer((_request, response) => {
      response.statusCode = 200;
      response.end();
    });
    const callback = { callback_url: `${webhookPeer.url}/hooks` };
    const account = await cqa.createAccount({ name: "Scopes", limits: roomyLimits, webhooks_enabled: true });
    accountId = account.accountId;
    adminKey = account.apiKey;
    // The batch lists agent-42's conversations last, so the first page of the batch is someone else's.
    const order: Name[] = ["unlabelled", "north-7", "south-7", "north-42", "south-42"];
    const batch = await cqa.request("POST", `${base()}/ingress/interactions/batch`, {
      apiKey: adminKey,
      body: {
        interactions: order.map((name) => chat(`scoped-${name}`, { ...conversations[name] }, callback)),
      },
    });
    assert.equal(batch.status, 202, batch.text);
    batchId = batch.body.data.id;
    const late = await cqa.request("POST", `${base()}/ingress/interactions`, {
      apiKey: adminKey,
      body: chat("scoped-late-7", { ...conversations["late-7"] }, callback),
    });
    assert.equal(late.status, 201, late.text);
    await cqa.drain();
    for (const name of names) {
      const detail = await cqa.request("GET", `${base()}/ingress/interactions/scoped-${name}`, {
        apiKey: adminKey,
      });
      assert.equal(detail.body.data.status, "completed", detail.text);
      stored[name] = {
        interactionId: detail.body.data.interaction_id,
        externalId: `scoped-${name}`,
        analysisId: detail.body.data.analyses[0].analysis_id,
      };
    }
    north = await login(
      cqa,
      accountId,
      await createUser(cqa, accountId, adminKey, {
        role: "supervisor",
        metadata_scope: { region: ["north"] },
      }),
    );
    const agent = await createUser(cqa, accountId, adminKey, { role: "agent", agent_id: "agent-42" });
    agent42UserId = agent.userId;
    agent42 = await login(cqa, accountId, agent);
    northAgent42 = await login(
      cqa,
      accountId,
      await createUser(cqa, accountId, adminKey, {
        role: "agent",
        agent_id: "agent-42",
        metadata_scope: { region: ["north"] },
      }),
    );
  });

  after(async () => {
    await cqa?.stop();
    await webhookPeer?.close();
  });

  test("an API key sees the whole account", async () => {
    const all = await listAnalyses(cqa, accountId, { apiKey: adminKey });
    assert.deepEqual(shown(all), names);
    assert.equal(all.body.data.pagination.total, names.length);
  });

  test("an agent-role API key belongs to no agent, so it sees no conversation", async () => {
    const agentKey = (await createKey(cqa, accountId, adminKey, "agent")).key;
    const answer = await listAnalyses(cqa, accountId, { apiKey: agentKey });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body.data.analyses, []);
    assert.equal(answer.body.data.pagination.total, 0);
    const all = await listAnalyses(cqa, accountId, { apiKey: adminKey });
    const someInteraction = all.body.data.analyses[0].interaction_id;
    const detail = await cqa.request(
      "GET",
      `${accountPath(accountId)}/ingress/interactions/${someInteraction}`,
      {
        apiKey: agentKey,
      },
    );
    assert.equal(detail.status, 404, detail.text);
  });

  test("a user scoped to region north lists only north conversations", async () => {
    const answer = await listAnalyses(cqa, accountId, { bearer: north });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(shown(answer), ["north-42", "north-7", "late-7"]);
    assert.equal(answer.body.data.pagination.total, 3, "the total counts only what the user may see");
  });

  test("a metadata filter cannot widen a user's scope", async () => {
    for (const group of [
      [[{ field: "region", operator: "equals", value: "south" }]],
      [[{ field: "region", operator: "not_equals", value: "north" }]],
      [
        [{ field: "agent_id", operator: "in", value: ["agent-7", "agent-42"] }],
        [{ field: "region", operator: "contains", value: "o" }],
      ],
    ]) {
      const answer = await listAnalyses(cqa, accountId, { bearer: north }, { metadata_filter_group: group });
      assert.equal(answer.status, 200, answer.text);
      assert.ok(
        shown(answer).every((name) => regionOf(name) === "north"),
        `filter ${JSON.stringify(group)} showed ${shown(answer).join(", ")}`,
      );
    }
  });

  test("a north user gets 404 for a south conversation, exactly as for one that does not exist", async () => {
    const south = stored["south-7"];
    const missing = "00000000-0000-7000-8000-0000000000aa";
    const paths = (interaction: string, analysis: string): [string, string, unknown?][] => [
      ["GET", `/ingress/interactions/${interaction}`],
      ["GET", `/ingress/interactions/${interaction}/transcript`],
      ["GET", `/ingress/interactions/${interaction}/recording`],
      ["POST", `/ingress/interactions/${interaction}/reprocess`],
      ["GET", `/analyses/${analysis}`],
      ["GET", `/analyses/${analysis}/history`],
      ["GET", `/analyses/${analysis}/disputes`],
      ["POST", `/analyses/${analysis}/disputes`, { reason: "out of scope" }],
      ["PUT", `/analyses/${analysis}/kpis/any/review`, { score: 0, justification: "out of scope" }],
    ];
    const hidden = [
      ...paths(south.interactionId, south.analysisId),
      ...paths(south.externalId, south.analysisId).slice(0, 4),
      ...paths(stored.unlabelled.interactionId, stored.unlabelled.analysisId),
    ];
    const absent = [
      ...paths(missing, missing),
      ...paths("no-such-call", missing).slice(0, 4),
      ...paths(missing, missing),
    ];
    for (const [index, [method, suffix, body]] of hidden.entries()) {
      const answer = await cqa.request(method, `${base()}${suffix}`, {
        bearer: north,
        ...(body ? { body } : {}),
      });
      assert.equal(answer.status, 404, `${method} ${suffix}: ${answer.text}`);
      assert.ok(!("data" in answer.body));
      const [absentMethod, absentSuffix, absentBody] = absent[index]!;
      const reference = await cqa.request(absentMethod, `${base()}${absentSuffix}`, {
        bearer: north,
        ...(absentBody ? { body: absentBody } : {}),
      });
      const generic = (text: string) => text.replace(/'[^']*'/g, "'…'");
      assert.equal(generic(answer.body.message), generic(reference.body.message), `${method} ${suffix}`);
    }
    const visible = stored["north-7"];
    for (const suffix of [
      `/ingress/interactions/${visible.interactionId}`,
      `/analyses/${visible.analysisId}`,
    ]) {
      assert.equal((await cqa.request("GET", `${base()}${suffix}`, { bearer: north })).status, 200, suffix);
    }
    const untouched = await cqa.request("GET", `${base()}/analyses/${south.analysisId}/disputes`, {
      apiKey: adminKey,
    });
    assert.deepEqual(untouched.body.data.disputes, [], "the out-of-scope POSTs changed nothing");
  });

  test("an agent lists only the conversations whose metadata agent_id is theirs", async () => {
    const answer = await listAnalyses(cqa, accountId, { bearer: agent42 });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(shown(answer), ["north-42", "south-42"]);
    assert.equal(answer.body.data.pagination.total, 2);
    const both = await listAnalyses(cqa, accountId, { bearer: northAgent42 });
    assert.deepEqual(shown(both), ["north-42"], "an agent with a region scope sees the intersection");
  });

  test("an agent gets 404 for another agent's conversation and 200 for their own", async () => {
    for (const name of names) {
      const own = name.endsWith("-42");
      for (const suffix of [
        `/ingress/interactions/${stored[name].interactionId}`,
        `/ingress/interactions/${stored[name].externalId}`,
        `/ingress/interactions/${stored[name].interactionId}/transcript`,
        `/analyses/${stored[name].analysisId}`,
        `/analyses/${stored[name].analysisId}/history`,
      ]) {
        const answer = await cqa.request("GET", `${base()}${suffix}`, { bearer: agent42 });
        assert.equal(answer.status, own ? 200 : 404, `${name} ${suffix}: ${answer.text}`);
      }
    }
  });

  test("batch tracking shows an agent only their own conversations, and pages over them", async () => {
    const all = await cqa.request("GET", `${base()}/ingress/interactions/batch/${batchId}?size=100`, {
      apiKey: adminKey,
    });
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(
      shown(all),
      names.filter((name) => name !== "late-7"),
    );

    const mine = await cqa.request("GET", `${base()}/ingress/interactions/batch/${batchId}?size=100`, {
      bearer: agent42,
    });
    assert.equal(mine.status, 200, mine.text);
    assert.deepEqual(shown(mine), ["north-42", "south-42"]);
    assert.equal(mine.body.data.total, 2, "total counts the agent's conversations only");
    assert.equal(mine.body.data.pagination.total_elements, 2);

    const firstPage = await cqa.request(
      "GET",
      `${base()}/ingress/interactions/batch/${batchId}?size=1&page=0`,
      {
        bearer: agent42,
      },
    );
    assert.equal(firstPage.body.data.pagination.total_pages, 2);
    assert.equal(
      firstPage.body.data.interactions.length,
      1,
      `page 0 holds one of the agent's conversations: ${firstPage.text}`,
    );
    const secondPage = await cqa.request(
      "GET",
      `${base()}/ingress/interactions/batch/${batchId}?size=1&page=1`,
      {
        bearer: agent42,
      },
    );
    assert.equal(secondPage.body.data.interactions.length, 1, secondPage.text);
    assert.deepEqual([...shown(firstPage), ...shown(secondPage)].sort(), ["north-42", "south-42"]);
  });

  test("the rule dry run evaluates only the agent's conversations", async () => {
    const recent = await cqa.request("POST", `${base()}/assignment-rules/dry-run`, {
      bearer: agent42,
      body: { limit: 2 },
    });
    assert.equal(recent.status, 200, recent.text);
    assert.deepEqual(
      shown(recent).sort(),
      ["north-42", "south-42"],
      `the agent's two most recent: ${recent.text}`,
    );
    assert.equal(recent.body.data.evaluated, 2);

    const named = await cqa.request("POST", `${base()}/assignment-rules/dry-run`, {
      bearer: agent42,
      body: { interaction_ids: names.map((name) => stored[name].externalId) },
    });
    assert.equal(named.status, 200, named.text);
    assert.deepEqual(shown(named).sort(), ["north-42", "south-42"]);

    const scoped = await cqa.request("POST", `${base()}/assignment-rules/dry-run`, {
      bearer: north,
      body: {},
    });
    assert.deepEqual(shown(scoped).sort(), ["late-7", "north-42", "north-7"]);
  });

  test("a scoped supervisor sees webhook deliveries of their conversations only", async () => {
    const all = await cqa.request("GET", `${base()}/webhook-deliveries?limit=100`, { apiKey: adminKey });
    assert.equal(all.status, 200, all.text);
    const byInteraction = new Map<string, string[]>();
    for (const d of all.body.data.deliveries as { delivery_id: string; interaction_id: string }[]) {
      byInteraction.set(d.interaction_id, [...(byInteraction.get(d.interaction_id) ?? []), d.delivery_id]);
    }
    const northIds = names.filter((n) => regionOf(n) === "north").map((n) => stored[n].interactionId);
    const south = stored["south-7"];
    assert.ok(byInteraction.get(south.interactionId)?.length, "the south conversation has deliveries");

    const seen = await cqa.request("GET", `${base()}/webhook-deliveries?limit=100`, { bearer: north });
    assert.equal(seen.status, 200, seen.text);
    const seenIds = seen.body.data.deliveries.map((d: { interaction_id: string }) => d.interaction_id);
    assert.ok(seenIds.length > 0, "the north supervisor sees the north deliveries");
    assert.deepEqual(
      seenIds.filter((id: string) => !northIds.includes(id)),
      [],
      "no delivery of a conversation outside the scope is listed",
    );
    assert.equal(seen.body.data.pagination.total, seenIds.length);
    assert.ok(!seen.text.includes(south.externalId));

    for (const deliveryId of byInteraction.get(south.interactionId) ?? []) {
      const detail = await cqa.request("GET", `${base()}/webhook-deliveries/${deliveryId}`, {
        bearer: north,
      });
      assert.equal(detail.status, 404, `a south delivery's payload stays hidden: ${detail.text}`);
      const resend = await cqa.request("POST", `${base()}/webhook-deliveries/${deliveryId}/resend`, {
        bearer: north,
      });
      assert.equal(resend.status, 404, resend.text);
    }
    const northDelivery = byInteraction.get(stored["north-7"].interactionId)![0]!;
    const detail = await cqa.request("GET", `${base()}/webhook-deliveries/${northDelivery}`, {
      bearer: north,
    });
    assert.equal(detail.status, 200, detail.text);
  });

  test("an agent whose agent_id is missing (data from before the rule) sees nothing", async () => {
    // The API refuses an agent without agent_id; rows written earlier still must not widen access.
    await cqa.db.query("UPDATE users SET agent_id = NULL WHERE id = $1", [agent42UserId]);
    try {
      const answer = await listAnalyses(cqa, accountId, { bearer: agent42 });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body.data.analyses, []);
    } finally {
      await cqa.db.query("UPDATE users SET agent_id = 'agent-42' WHERE id = $1", [agent42UserId]);
    }
  });
});
