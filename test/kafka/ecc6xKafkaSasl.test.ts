// ECC6x over Kafka against a broker that requires SASL and enforces ACLs (a second broker config with
// JAAS users, started by this file): PLAIN and SCRAM sign in and consume; "test connection" tells
// which of reach / auth / topic / permissions failed, in words an IT admin can act on.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { freePort } from "../../scripts/kafka/broker.ts";
import { type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import { assertStopsAt, brokerForThisFile, eccEvent, eventually, uniqueName } from "./support.ts";

const { broker, tool } = await brokerForThisFile({ sasl: { users: { cqa: "cqa-secret" }, acls: true } });

const topic = uniqueName("ecc-events");
const feedbackTopic = uniqueName("ecc-feedback");
const forbiddenTopic = uniqueName("ecc-other-team");
const group = uniqueName("cqa");
await tool.createTopic(topic, 2);
await tool.createTopic(feedbackTopic, 1);
await tool.createTopic(forbiddenTopic, 1);
// What the Kafka admins grant cqa's user, as the set-up page tells them.
await tool.grant("cqa", { topic }, "READ");
await tool.grant("cqa", { group }, "READ");
await tool.grant("cqa", { topic: feedbackTopic }, "WRITE");
await tool.grant("cqa", { topic: feedbackTopic }, "DESCRIBE");

const sasl = (mechanism: string, password = "cqa-secret") => ({ mechanism, username: "cqa", password });

describe("ECC6x Kafka with SASL and ACLs", () => {
  let cqa: TestCqa;
  let account: CreatedAccount;

  before(async () => {
    cqa = await startTestCqa({ loops: true });
    account = await cqa.createAccount();
  });
  after(async () => {
    await cqa?.stop();
  });

  const integrations = `/api/v1/accounts/`;
  const create = async (config: Record<string, unknown>) => {
    const answer = await cqa.request("POST", `${integrations}${account.accountId}/integrations`, {
      apiKey: account.apiKey,
      body: {
        kind: "ecc6x_kafka",
        name: uniqueName("ecc6x"),
        config: {
          brokers: [broker.bootstrap],
          topics: [topic],
          group_id: group,
          feedback_topic: feedbackTopic,
          consumer: { session_timeout_ms: 6000, max_wait_ms: 100 },
          ...config,
        },
        enabled: false,
      },
    });
    assert.equal(answer.status, 201, answer.text);
    return answer.body.data.integration_id as string;
  };
  const testConnection = async (id: string) => {
    const answer = await cqa.request("POST", `${integrations}${account.accountId}/integrations/${id}/test`, {
      apiKey: account.apiKey,
    });
    assert.equal(answer.status, 200);
    return answer.body.data as { ok: boolean; checks: { name: string; ok: boolean; message: string }[] };
  };
  const check = (result: Awaited<ReturnType<typeof testConnection>>, name: string) =>
    result.checks.find((c) => c.name === name);

  test("SASL/PLAIN: test connection passes and events are consumed, with the password sealed", async () => {
    const id = await create({ sasl: sasl("PLAIN") });
    const result = await testConnection(id);
    assert.equal(result.ok, true, JSON.stringify(result.checks));
    assert.match(check(result, "auth")?.message ?? "", /Signed in as 'cqa' with SASL PLAIN/);
    const shown = await cqa.request("GET", `${integrations}${account.accountId}/integrations/${id}`, {
      apiKey: account.apiKey,
    });
    assert.equal(shown.body.data.config.sasl.password, "********");

    const enabled = await cqa.request("PUT", `${integrations}${account.accountId}/integrations/${id}`, {
      apiKey: account.apiKey,
      body: {
        kind: "ecc6x_kafka",
        name: shown.body.data.name,
        config: shown.body.data.config,
        enabled: true,
      },
    });
    assert.equal(enabled.status, 200, enabled.text);
    await cqa.running.supervisor?.tick();
    const calls = Array.from({ length: 20 }, (_, i) => `${uniqueName("SASL")}-${i}`);
    await tool.produce(calls.map((call) => ({ topic, key: call, value: JSON.stringify(eccEvent(call)) })));
    await eventually("20 events stored over SASL", async () => {
      const rows = await cqa.db.query("SELECT 1 FROM interactions WHERE integration_id = $1", [id]);
      return rows.rowCount === 20;
    });
    await eventually("their results produced to the feedback topic", async () => {
      const feedback = await tool.readAll(feedbackTopic);
      return calls.every((call) => feedback.some((r) => r.key === call));
    });
    await cqa.request("POST", `${integrations}${account.accountId}/integrations/${id}/pause`, {
      apiKey: account.apiKey,
    });
    await cqa.running.supervisor?.tick();
  });

  test("SCRAM-SHA-256 and SCRAM-SHA-512 sign in too", async () => {
    for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-512"]) {
      const result = await testConnection(await create({ sasl: sasl(mechanism) }));
      assert.equal(result.ok, true, `${mechanism}: ${JSON.stringify(result.checks)}`);
      assert.match(check(result, "auth")?.message ?? "", new RegExp(`SASL ${mechanism}`));
    }
  });

  test("wrong credentials: the brokers are reached, and authentication is what failed", async () => {
    for (const mechanism of ["PLAIN", "SCRAM-SHA-256"]) {
      const result = await testConnection(await create({ sasl: sasl(mechanism, "not-the-password") }));
      assert.equal(result.ok, false);
      assert.equal(check(result, "reach")?.ok, true, JSON.stringify(result.checks));
      assert.equal(check(result, "auth")?.ok, false);
      assert.match(
        check(result, "auth")?.message ?? "",
        /refused the SASL credentials.*check sasl\.mechanism, sasl\.username and sasl\.password/,
      );
    }
    const none = await testConnection(await create({}));
    assert.equal(none.ok, false, "a SASL listener refuses a client without SASL");
  });

  test("TLS on against this plaintext listener: the tls check says the listener does not answer TLS", async () => {
    const result = await testConnection(await create({ tls: { enabled: true }, sasl: sasl("PLAIN") }));
    assertStopsAt(
      result,
      ["reach"],
      "tls",
      /does not answer a TLS handshake .*probably plaintext — turn tls\.enabled off/,
    );
  });

  test("an address nothing listens on: reach failed, naming the brokers and the firewall", async () => {
    const port = await freePort();
    const result = await testConnection(
      await create({ brokers: [`127.0.0.1:${port}`], sasl: sasl("PLAIN") }),
    );
    assert.equal(result.ok, false);
    assert.equal(check(result, "reach")?.ok, false);
    assert.match(
      check(result, "reach")?.message ?? "",
      new RegExp(`cannot reach the brokers 127\\.0\\.0\\.1:${port}.*firewall`),
    );
  });

  test("a topic that does not exist, and one the ACLs do not open: topic and permissions checks say which", async () => {
    // A user allowed to see every topic (the super user) learns the topic does not exist…
    const admin = { mechanism: "PLAIN", username: broker.admin!.username, password: broker.admin!.password };
    const missing = await testConnection(await create({ topics: ["ecc.no-such-topic"], sasl: admin }));
    assert.equal(missing.ok, false);
    assert.equal(check(missing, "auth")?.ok, true);
    assert.equal(check(missing, "topic")?.ok, false, JSON.stringify(missing.checks));
    assert.match(
      check(missing, "topic")?.message ?? "",
      /ecc\.no-such-topic do not exist on the cluster: create them/,
    );
    // …while Kafka hides it from a user without DESCRIBE, and the check says both are possible.
    const hidden = await testConnection(await create({ topics: ["ecc.no-such-topic"], sasl: sasl("PLAIN") }));
    assert.equal(check(hidden, "topic")?.ok, false);
    assert.match(check(hidden, "topic")?.message ?? "", /do not exist or are hidden from User:cqa/);

    const denied = await testConnection(await create({ topics: [forbiddenTopic], sasl: sasl("PLAIN") }));
    assert.equal(denied.ok, false);
    assert.equal(check(denied, "auth")?.ok, true);
    assert.equal(check(denied, "permissions")?.ok, false, JSON.stringify(denied.checks));
    assert.match(
      check(denied, "permissions")?.message ?? "",
      new RegExp(`User:cqa.*on topic '${forbiddenTopic}'`),
    );

    const noGroup = await testConnection(
      await create({ group_id: "someone-elses-group", sasl: sasl("PLAIN") }),
    );
    assert.equal(check(noGroup, "permissions")?.ok, false, JSON.stringify(noGroup.checks));
    assert.match(check(noGroup, "permissions")?.message ?? "", /READ on group 'someone-elses-group'/);
  });
});
