// A signed-in user's own preferences (the dashboard's column choice): saved on the server so they
// follow the user to any browser, validated per key, private to the user, refused to API keys.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { accountPath, assertUnauthorized, createUser, login, roomyLimits } from "../security/tenants.ts";
import { backends, type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";

for (const backend of backends()) {
  describe(`user preferences (${backend.name})`, () => {
    const clock = new ManualClock("2026-03-02T09:00:00Z");
    let cqa: TestCqa;
    let account: CreatedAccount;
    let ada: string;
    let sam: string;
    const path = (suffix = "") => `${accountPath(account.accountId)}/me/preferences${suffix}`;
    const columns = "/analysis_list_columns";

    before(async () => {
      cqa = await startTestCqa({ backend, clock });
      account = await cqa.createAccount({ name: "Preferences", limits: roomyLimits });
      const admin = await createUser(cqa, account.accountId, account.apiKey, { role: "admin" });
      const agent = await createUser(cqa, account.accountId, account.apiKey, {
        role: "agent",
        agent_id: "agent-42",
      });
      ada = await login(cqa, account.accountId, admin);
      sam = await login(cqa, account.accountId, agent);
    });

    after(async () => {
      await cqa?.stop();
    });

    test("a saved column choice is what the same user gets back in any later session", async () => {
      const empty = await cqa.request("GET", path(), { bearer: ada });
      assert.equal(empty.status, 200, empty.text);
      assert.deepEqual(empty.body.data.preferences, {}, "nothing saved yet: the client uses its defaults");

      const chosen = ["created", "status", "final", "meta:campaign", "meta:agent_id"];
      const saved = await cqa.request("PUT", path(columns), { bearer: ada, body: { value: chosen } });
      assert.equal(saved.status, 200, saved.text);
      assert.deepEqual(saved.body.data, {
        key: "analysis_list_columns",
        value: chosen,
        updated_at: "2026-03-02T09:00:00.000Z",
      });

      const again = await cqa.request("GET", path(), { bearer: ada });
      assert.deepEqual(again.body.data.preferences, { analysis_list_columns: chosen }, "order is kept");

      clock.set("2026-03-02T10:00:00Z");
      const replaced = await cqa.request("PUT", path(columns), { bearer: ada, body: { value: ["qa"] } });
      assert.equal(replaced.body.data.updated_at, "2026-03-02T10:00:00.000Z");
      assert.deepEqual((await cqa.request("GET", path(), { bearer: ada })).body.data.preferences, {
        analysis_list_columns: ["qa"],
      });
      // An empty choice is a choice (only the fixed conversation column), not "the defaults".
      await cqa.request("PUT", path(columns), { bearer: ada, body: { value: [] } });
      assert.deepEqual((await cqa.request("GET", path(), { bearer: ada })).body.data.preferences, {
        analysis_list_columns: [],
      });
    });

    test("each user has their own; any role may save theirs; reset brings the defaults back", async () => {
      await cqa.request("PUT", path(columns), { bearer: ada, body: { value: ["created", "ai"] } });
      const agentsOwn = await cqa.request("GET", path(), { bearer: sam });
      assert.deepEqual(agentsOwn.body.data.preferences, {}, "another user does not see Ada's choice");
      const agentSaves = await cqa.request("PUT", path(columns), { bearer: sam, body: { value: ["final"] } });
      assert.equal(agentSaves.status, 200, `an agent may keep preferences: ${agentSaves.text}`);
      assert.deepEqual((await cqa.request("GET", path(), { bearer: ada })).body.data.preferences, {
        analysis_list_columns: ["created", "ai"],
      });

      const reset = await cqa.request("DELETE", path(columns), { bearer: sam });
      assert.equal(reset.status, 200, reset.text);
      assert.deepEqual(reset.body.data, { key: "analysis_list_columns", deleted: true });
      assert.deepEqual((await cqa.request("GET", path(), { bearer: sam })).body.data.preferences, {});
      const again = await cqa.request("DELETE", path(columns), { bearer: sam });
      assert.deepEqual(again.body.data, { key: "analysis_list_columns", deleted: false }, "idempotent");
    });

    test("bad values are refused with what to send instead, and nothing is stored", async () => {
      await cqa.request("PUT", path(columns), { bearer: ada, body: { value: ["created"] } });
      const cases: [string, unknown, RegExp][] = [
        [
          "an unknown column",
          { value: ["created", "salary"] },
          /value\[1\] \('salary'\) is not a column.*meta:<metadata key>/,
        ],
        ["a column twice", { value: ["created", "created"] }, /lists a column twice/],
        ["not a list", { value: "created" }, /must be a list of column ids/],
        ["not strings", { value: [7] }, /value\[0\] must be a column id/],
        ["an empty metadata key", { value: ["meta:"] }, /'meta:'.*is not a column/],
        ["a metadata key over 128 characters", { value: [`meta:${"k".repeat(129)}`] }, /is not a column/],
        [
          "too many columns",
          { value: Array.from({ length: 101 }, (_, i) => `meta:k${i}`) },
          /at most 100 columns/,
        ],
        ["no value", {}, /value is required/],
        ["other fields", { value: ["created"], theme: "dark" }, /unknown field\(s\): theme/],
      ];
      for (const [label, body, message] of cases) {
        const answer = await cqa.request("PUT", path(columns), { bearer: ada, body });
        assert.equal(answer.status, 400, `${label}: ${answer.text}`);
        assert.equal(answer.body.error.code, "VALIDATION_ERROR", label);
        assert.match(answer.body.message, message, label);
      }
      const huge = await cqa.request("PUT", path(columns), {
        bearer: ada,
        body: { value: ["created"], padding: "x".repeat(20_000) },
      });
      assert.equal(huge.status, 400, huge.text);
      assert.match(huge.body.message, /16384 bytes, the most this endpoint accepts/);

      const unknownKey = await cqa.request("PUT", path("/theme"), { bearer: ada, body: { value: "dark" } });
      assert.equal(unknownKey.status, 404, unknownKey.text);
      assert.equal(unknownKey.body.error.code, "NOT_FOUND");
      assert.match(unknownKey.body.message, /no preference 'theme'.*analysis_list_columns/);
      assert.deepEqual(
        (await cqa.request("GET", path(), { bearer: ada })).body.data.preferences,
        { analysis_list_columns: ["created"] },
        "the refused values left the saved one alone",
      );
    });

    test("an API key belongs to no user: refused, saying to sign in as a user", async () => {
      for (const [method, suffix, body] of [
        ["GET", "", undefined],
        ["PUT", columns, { value: ["created"] }],
        ["DELETE", columns, undefined],
      ] as const) {
        const answer = await cqa.request(method, path(suffix), {
          apiKey: account.apiKey,
          ...(body ? { body } : {}),
        });
        assertUnauthorized(answer, `${method} with an API key`);
        assert.match(answer.body.message, /an API key belongs to no user: sign in/);
      }
    });

    test("a stored value an older or newer cqa no longer accepts reads as not saved (the default applies)", async () => {
      const user = await createUser(cqa, account.accountId, account.apiKey, { role: "analyst" });
      const token = await login(cqa, account.accountId, user);
      await cqa.db.query(
        `INSERT INTO user_preferences (account_id, user_id, key, value, updated_at)
         VALUES ($1, $2, 'analysis_list_columns', '["created", "retired-column"]', now()),
                ($1, $2, 'retired_preference', '"x"', now())`,
        [account.accountId, user.userId],
      );
      const answer = await cqa.request("GET", path(), { bearer: token });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body.data.preferences, {});
    });
  });
}
