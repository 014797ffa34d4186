// An IT admin sets up an integration in the dashboard, in headless Chromium against a running cqa:
// the form is generated from the connector kind's config schema, "test connection" explains what
// failed, and after a fix the integration runs, shows its health and runs, and its dead letters can
// be retried. The connector kind is the framework's test feed, read from a real local HTTP peer.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { feedChat, startFeedPeer, testFeedConnector } from "../support/testConnectors.ts";
import { type DashboardRig, startDashboardRig } from "./dashboardRig.ts";

describe("dashboard: integrations in a real browser", () => {
  let rig: DashboardRig;
  let page: Page;
  let feed: Awaited<ReturnType<typeof startFeedPeer>>;
  let integrationId: string;

  before(async () => {
    feed = await startFeedPeer("the-right-token");
    feed.add(feedChat("feed-call-1"), feedChat("feed-call-2"), "{not json", {
      external_interaction_id: "feed-bad-item",
    });
    rig = await startDashboardRig({ conversationsPerDay: 1, connectors: [testFeedConnector] });
    page = await rig.newPage();
    await rig.signIn(page, rig.users.admin);
  });

  after(async () => {
    await rig?.stop();
    await feed?.close();
  });

  test("a form generated from the kind's schema creates the integration; a failing test is explained", async () => {
    await page.getByRole("link", { name: "Integrations" }).click();
    await page.getByText("No integration yet").waitFor();
    await page.getByRole("button", { name: "New integration" }).click();
    await page.getByRole("button", { name: "Set up Test feed (poll)" }).click();
    await page.getByLabel("Name").fill("Call feed");
    // Fields come from the JSON Schema: url (text), token (a write-only secret), page size (number, default 50).
    await page.getByLabel("Url").fill(`${feed.url}/feed`);
    const token = page.getByLabel("Token");
    assert.equal(await token.getAttribute("type"), "password", "secrets are write-only fields");
    await token.fill("a-wrong-token");
    assert.equal(await page.getByLabel("Page size").getAttribute("placeholder"), "50");
    await page.getByRole("button", { name: "Create integration" }).click();

    // Straight after creation the connection is tested, and each check says what is wrong.
    const result = page.getByRole("region", { name: "Connection test" });
    await result.getByText("The connection test failed").waitFor();
    await result
      .getByRole("listitem")
      .filter({ hasText: "auth failed: The feed refused the token" })
      .waitFor();
    await result.getByRole("listitem").filter({ hasText: "reach passed" }).waitFor();
    integrationId = new URL(page.url()).pathname.split("/").pop()!;
    const stored = await rig.api("GET", `/integrations/${integrationId}`);
    assert.equal(stored.body.data.kind, "test_feed");
    assert.equal(stored.body.data.config.url, `${feed.url}/feed`);
    assert.notEqual(stored.body.data.config.token, "a-wrong-token", "the secret is never shown again");
    await rig.screenshot(page, "integration-test-failed");
  });

  test("after fixing the secret the test passes, a run ingests, health and runs show it", async () => {
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Token").fill("the-right-token");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("status").filter({ hasText: "Integration saved" }).waitFor();
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByText("Every check passed").waitFor();

    await page.getByRole("button", { name: "Run now" }).click();
    await page.getByRole("status").filter({ hasText: "Run queued" }).waitFor();
    await rig.cqa.drain();
    await page.reload();
    const runs = page.getByRole("region", { name: "Runs" });
    await runs.getByRole("row").nth(1).waitFor();
    const run = (await rig.api("GET", `/integrations/${integrationId}/runs`)).body.data.runs[0];
    assert.equal(run.ingested, 2);
    const cells = await runs.getByRole("row").nth(1).getByRole("cell").allTextContents();
    assert.deepEqual(
      cells.slice(3, 8),
      [run.seen, run.ingested, run.duplicate, run.rejected, run.failed].map(String),
    );
    const health = page.getByRole("region", { name: "Health" });
    await health.getByText("Last success").waitFor();
    assert.notEqual(await health.locator("dd").nth(2).textContent(), "—", "last success is set");
    await rig.screenshot(page, "integration");

    await page.getByRole("link", { name: "Integrations" }).first().click();
    const row = page.getByRole("row").filter({ hasText: "Call feed" });
    await row.getByText("idle").waitFor();
  });

  test("dead letters are listed with their reason and can be retried", async () => {
    await page.getByRole("link", { name: "Call feed" }).click();
    const letters = page.getByRole("region", { name: /Dead letters/ });
    await letters.getByText("feed offset 2").waitFor();
    const listed = (await rig.api("GET", `/integrations/${integrationId}/dead-letters`)).body.data
      .dead_letters;
    assert.equal(listed.length, 2, "the unreadable record and the invalid item");
    const invalid = listed.find((l: { source_ref: string }) => l.source_ref === "feed offset 3");
    await letters.getByText(invalid.reason, { exact: false }).waitFor();
    const row = letters.getByRole("row").filter({ hasText: "feed offset 3" });
    await row.getByRole("button", { name: "Retry" }).click();
    await page.getByRole("alert").filter({ hasText: "Still rejected" }).waitFor();
    const after = (await rig.api("GET", `/integrations/${integrationId}/dead-letters`)).body.data
      .dead_letters;
    assert.equal(
      after.find((l: { source_ref: string }) => l.source_ref === "feed offset 3").attempts,
      invalid.attempts + 1,
    );
  });

  test("pause and resume", async () => {
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByRole("status").filter({ hasText: "Paused" }).waitFor();
    assert.equal((await rig.api("GET", `/integrations/${integrationId}/status`)).body.data.state, "paused");
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByRole("status").filter({ hasText: "Resumed" }).waitFor();
    assert.notEqual(
      (await rig.api("GET", `/integrations/${integrationId}/status`)).body.data.state,
      "paused",
    );
  });

  test("a supervisor sees integrations but cannot change them", async () => {
    const supervisor = await rig.newPage();
    await rig.signIn(supervisor, rig.users.supervisor);
    await supervisor.getByRole("link", { name: "Integrations" }).click();
    await supervisor.getByRole("link", { name: "Call feed" }).click();
    await supervisor.getByRole("region", { name: "Health" }).waitFor();
    assert.equal(await supervisor.getByRole("button", { name: "Test connection" }).count(), 0);
    assert.equal(await supervisor.getByRole("button", { name: "New integration" }).count(), 0);
  });
});
