import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestCqa } from "./support/testCqa.ts";

test("a new account analyses its first conversation without configuration", async () => {
  const cqa = await startTestCqa();
  try {
    const account = await cqa.createAccount();
    const created = await cqa.request("POST", `/api/v1/accounts/${account.accountId}/ingress/interactions`, {
      apiKey: account.apiKey,
      body: {
        external_interaction_id: "chat-2026-09-03-001",
        channel_type: "CHAT",
        source: "web-chat",
        language: "en",
        transcript_text:
          "Agent: Hello! How can I help you today?\nCustomer: I need to reset my password.\nAgent: Sure, I can help with that. Let me send you a reset link.",
      },
    });
    assert.equal(created.status, 201, created.text);
    await cqa.drain();
    const detail = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/ingress/interactions/chat-2026-09-03-001`,
      {
        apiKey: account.apiKey,
      },
    );
    assert.equal(detail.body.data.status, "completed");
    assert.equal(detail.body.data.analyses.length, 1);
    const analysis = await cqa.request(
      "GET",
      `/api/v1/accounts/${account.accountId}/analyses/${detail.body.data.analyses[0].analysis_id}`,
      {
        apiKey: account.apiKey,
      },
    );
    assert.equal(analysis.status, 200);
    assert.equal(analysis.body.data.status, "completed");
    assert.ok(analysis.body.data.categories.length > 0);
  } finally {
    await cqa.stop();
  }
});
