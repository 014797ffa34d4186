// Configuring cqa from the dashboard, in headless Chromium against a running cqa: an assignment rule
// built with the condition builder and dry-run, a quality profile edited into a new version,
// metadata fields, a scoped user, and an API key whose secret is shown once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { strongPassword } from "../security/tenants.ts";
import { type DashboardRig, startDashboardRig } from "./dashboardRig.ts";

describe("dashboard: configuration in a real browser", () => {
  let rig: DashboardRig;
  let page: Page;

  before(async () => {
    rig = await startDashboardRig({ conversationsPerDay: 1 });
    page = await rig.newPage();
    await rig.signIn(page, rig.users.supervisor);
  });

  after(async () => {
    await rig?.stop();
  });

  test("a rule built with the condition builder is dry-run against recent conversations, then saved", async () => {
    await page.getByRole("link", { name: "Assignment rules" }).click();
    await page.getByRole("button", { name: "New rule" }).click();
    await page.getByLabel("Name").fill("Retention voice calls");
    await page.getByLabel("Priority").fill("5");
    const conditions = page.getByRole("group", { name: "Condition", exact: true });
    assert.equal(await conditions.count(), 1, "a new rule starts with channel is VOICE");
    await page.getByRole("button", { name: "Add condition" }).click();
    const second = conditions.nth(1);
    await second.getByLabel("Field").selectOption({ label: "Campaign" });
    await second.getByLabel("Operator").selectOption({ label: "is" });
    await second.getByLabel("Value").fill("retention");
    await page.getByRole("checkbox", { name: "Starter quality profile" }).check();

    await page.getByRole("button", { name: "Dry run", exact: true }).click();
    const summary = page.getByTestId("dry-run-summary");
    await summary.waitFor();
    const rule = {
      name: "Retention voice calls",
      priority: 5,
      enabled: true,
      sampling_percent: 100,
      stop_on_match: true,
      conditions: {
        all: [
          { field: "channel_type", operator: "eq", value: "VOICE" },
          { field: "metadata.campaign", operator: "eq", value: "retention" },
        ],
      },
      profile_ids: [(await rig.api("GET", "/quality-profiles")).body.data.quality_profiles[0].profile_id],
    };
    const expected = await rig.api("POST", "/assignment-rules/dry-run", { rule, limit: 50 });
    assert.equal(
      (await summary.textContent())?.replace(/\s+/g, " "),
      `${expected.body.data.would_be_analysed} of ${expected.body.data.evaluated} conversations would be analysed; ${expected.body.data.would_not_be_analysed} would not.`,
    );
    await page.getByRole("table").getByText("retention", { exact: false }).first().waitFor();
    await rig.screenshot(page, "rule-editor");

    await page.getByRole("button", { name: "Create rule" }).click();
    await page.getByRole("status").filter({ hasText: "Rule created" }).waitFor();
    const id = new URL(page.url()).pathname.split("/").pop()!;
    const saved = await rig.api("GET", `/assignment-rules/${id}`);
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    assert.deepEqual(saved.body.data.conditions, rule.conditions);
    assert.equal(saved.body.data.priority, 5);
    assert.deepEqual(saved.body.data.profile_ids, rule.profile_ids);
  });

  test("a quality profile edited in the form is saved as a new version; KPI ids stay", async () => {
    await page.getByRole("link", { name: "Quality profiles" }).click();
    await page.getByRole("link", { name: "Starter quality profile" }).click();
    await page.getByRole("heading", { name: "Starter quality profile" }).waitFor();
    const kpi = page.locator("details.kpi-editor").filter({ hasText: "Empathy" });
    await kpi.locator("summary").click();
    await kpi.getByLabel("Question").fill("Did the agent acknowledge how the customer feels?");
    // The evaluator form is generated from the API's own schema of evaluators.
    assert.equal(await kpi.getByLabel("Type", { exact: true }).inputValue(), "phrase_present");
    const phrases = kpi.getByLabel("Phrases");
    await phrases.fill(`${await phrases.inputValue()}\nthat must be difficult`);
    await kpi.getByLabel("Criticality").selectOption("critical");
    await page.getByRole("status").filter({ hasText: "Rule created" }).waitFor({ state: "detached" });
    await kpi.evaluate((element) => {
      element.scrollIntoView({ block: "start" });
      window.scrollBy(0, -90);
    });
    await rig.screenshot(page, "profile-editor");
    await page.getByRole("button", { name: "Save new version" }).click();
    await page.getByRole("status").filter({ hasText: "Saved as version 2" }).waitFor();

    const profiles = await rig.api("GET", "/quality-profiles");
    const profile = profiles.body.data.quality_profiles[0];
    assert.equal(profile.current_version, 2);
    const empathy = profile.definition.categories
      .flatMap((c: { sub_categories: { kpis: unknown[] }[] }) => c.sub_categories.flatMap((s) => s.kpis))
      .find((k: { name: string }) => k.name === "Empathy");
    assert.equal(empathy.id, "empathy", "the KPI keeps its id, so reviews and trends still match");
    assert.equal(empathy.question, "Did the agent acknowledge how the customer feels?");
    assert.equal(empathy.criticality, "critical");
    assert.ok(empathy.evaluator.phrases.includes("that must be difficult"));
    await page.getByRole("link", { name: "Version 1" }).click();
    await page.getByText("You are looking at version 1").waitFor();
  });

  test("a metadata key seen on conversations is set up as a field, and its flags change", async () => {
    await rig.api("POST", "/ingress/interactions", {
      external_interaction_id: "with-region-1",
      channel_type: "CHAT",
      transcript_text: "Agent: Hello, thank you for calling.\nCustomer: Hi.",
      metadata: { region: "emea" },
    });
    await page.getByRole("link", { name: "Metadata fields" }).click();
    await page.getByRole("button", { name: "region" }).click();
    assert.equal(await page.getByLabel("Key").inputValue(), "region");
    await page.getByRole("button", { name: "Save field" }).click();
    await page.getByRole("status").filter({ hasText: "Field Region saved" }).waitFor();
    await page.getByRole("checkbox", { name: "Filterable: region" }).uncheck();
    await page.getByRole("status").filter({ hasText: "Region: filterable off" }).waitFor();
    await page.getByRole("checkbox", { name: "Access controlled: region" }).check();
    await page.getByRole("status").filter({ hasText: "Region: access controlled on" }).waitFor();
    const fields = (await rig.api("GET", "/metadata-fields")).body.data.metadata_fields;
    const region = fields.find((f: { key: string }) => f.key === "region");
    assert.deepEqual(
      { label: region.label, filterable: region.filterable, access_controlled: region.access_controlled },
      { label: "Region", filterable: false, access_controlled: true },
    );
  });

  test("an admin creates a user limited to one team, who then sees only that team", async () => {
    const admin = await rig.newPage();
    await rig.signIn(admin, rig.users.admin);
    await admin.getByRole("link", { name: "Users" }).click();
    await admin.getByRole("button", { name: "New user" }).click();
    const dialog = admin.getByRole("dialog", { name: "New user" });
    await dialog.getByLabel("E-mail").fill("nora.north@acme.example");
    await dialog.getByLabel("Name").fill("Nora North");
    await dialog.getByLabel("Role").selectOption("analyst");
    await dialog.getByLabel("Password").fill(strongPassword);
    await dialog.getByRole("button", { name: "Add a limit" }).click();
    await dialog.getByLabel("Metadata key").fill("team");
    await dialog.getByLabel("Allowed values (comma-separated)").fill("north");
    await dialog.getByRole("button", { name: "Create user" }).click();
    await admin.getByRole("status").filter({ hasText: "nora.north@acme.example can now sign in" }).waitFor();
    await admin.getByRole("cell", { name: "team = north" }).waitFor();
    await rig.screenshot(admin, "users");
    const users = (await rig.api("GET", "/users")).body.data.users;
    const nora = users.find((u: { email: string }) => u.email === "nora.north@acme.example");
    assert.deepEqual(nora.metadata_scope, { team: ["north"] });
    assert.equal(nora.role, "analyst");

    const noraPage = await rig.newPage();
    await rig.signIn(noraPage, {
      email: "nora.north@acme.example",
      password: strongPassword,
      userId: nora.user_id,
    });
    await noraPage.locator("tbody tr").first().waitFor();
    await noraPage.getByText("Columns", { exact: true }).click();
    await noraPage.getByRole("checkbox", { name: "Team" }).check();
    await noraPage.getByText("Columns", { exact: true }).click();
    const teams = await noraPage.locator("tbody tr td:last-child").allTextContents();
    assert.ok(teams.length > 0 && teams.every((t) => t === "north"), `only north: ${teams.join(", ")}`);
  });

  test("an API key's secret is shown once, works, and is gone when the dialog closes", async () => {
    const admin = await rig.newPage();
    await rig.signIn(admin, rig.users.admin);
    await admin.getByRole("link", { name: "API keys" }).click();
    await admin.getByLabel("Name").fill("CRM connector");
    await admin.getByLabel("Role").selectOption("analyst");
    await admin.getByRole("button", { name: "Create key" }).click();
    const secret = (await admin.getByTestId("new-api-key").textContent())!.trim();
    assert.match(secret, /^cqa_/);
    const me = await rig.cqa.request("GET", `/api/v1/accounts/${rig.accountId}/me`, { apiKey: secret });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.data.role, "analyst");
    await admin.getByRole("button", { name: "I have stored it" }).click();
    await admin.getByRole("cell", { name: "CRM connector" }).waitFor();
    assert.ok(!(await admin.content()).includes(secret), "the secret is not on the page any more");
  });
});
