// Roles and scopes in the dashboard, in headless Chromium against a running cqa: an agent sees only
// their own conversations; an analyst cannot manage users (neither in the page nor through the API
// with the same session); sign-out ends the session; keyboard, labels and laptop-sized screens.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type DashboardRig, startDashboardRig } from "./dashboardRig.ts";

const day = (offset: number) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Kolkata" }).format(
    new Date(Date.now() + offset * 86_400_000),
  );

describe("dashboard: roles and scopes in a real browser", () => {
  let rig: DashboardRig;

  before(async () => {
    rig = await startDashboardRig({ conversationsPerDay: 2 });
  });

  after(async () => {
    await rig?.stop();
  });

  test("an agent sees only their own conversations", async () => {
    const page = await rig.newPage();
    await rig.signIn(page, rig.users.agent);
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "My conversations" }).waitFor();
    assert.equal(await nav.getByText("Configuration").count(), 0, "no configuration for agents");
    assert.equal(await nav.getByRole("link", { name: "Integrations" }).count(), 0);

    await page.goto(`/analyses?from=${day(-13)}&to=${day(0)}`);
    await page.locator("tbody tr").first().waitFor();
    const own = await rig.api("POST", "/analyses?limit=100", {
      other_filters: [
        { field: "date", operator: "range", value: { start_date: day(-13), end_date: day(0) } },
      ],
      metadata_filter_group: [[{ field: "agent_id", operator: "equals", value: "agent-42" }]],
    });
    const all = await rig.api("POST", "/analyses?limit=1", {
      other_filters: [
        { field: "date", operator: "range", value: { start_date: day(-13), end_date: day(0) } },
      ],
    });
    const mine = own.body.data.pagination.total as number;
    assert.ok(
      mine > 0 && mine < all.body.data.pagination.total,
      "the agent has some, not all, conversations",
    );
    await page.getByRole("heading", { name: `${mine} analyses` }).waitFor();
    const agents = await page.locator("tbody tr td:last-child").allTextContents();
    assert.ok(
      agents.every((a) => a === "agent-42"),
      `only agent-42: ${agents.join(", ")}`,
    );

    // Someone else's conversation, even by its exact address, is not there for them.
    const other = (
      await rig.api("POST", "/analyses?limit=1", {
        other_filters: [
          { field: "date", operator: "range", value: { start_date: day(-13), end_date: day(0) } },
        ],
        metadata_filter_group: [[{ field: "agent_id", operator: "equals", value: "agent-7" }]],
      })
    ).body.data.analyses[0];
    await page.goto(`/analyses/${other.analysis_id}`);
    await page.getByRole("alert").filter({ hasText: "No analysis" }).waitFor();
    await page.goto("/insights");
    const byAgent = page.getByRole("list", { name: "Average score by Agent" });
    await byAgent.locator("li").first().waitFor();
    assert.deepEqual(
      await byAgent.locator(".bar-label").allTextContents(),
      ["agent-42"],
      "insights are scoped too",
    );
  });

  test("an analyst cannot manage users: no menu entry, no page, and the API refuses the same session", async () => {
    const page = await rig.newPage();
    await rig.signIn(page, rig.users.analyst);
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Quality profiles" }).waitFor();
    assert.equal(await nav.getByRole("link", { name: "Users" }).count(), 0);
    assert.equal(await nav.getByRole("link", { name: "API keys" }).count(), 0);
    await page.goto("/settings/users");
    await page.getByText("Your role cannot open this page").waitFor();
    const answers = await page.evaluate(async (accountId) => {
      const session = await (await fetch("/api/v1/auth/session")).json();
      const list = await fetch(`/api/v1/accounts/${accountId}/users`);
      const create = await fetch(`/api/v1/accounts/${accountId}/users`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": session.data.csrf_token },
        body: JSON.stringify({
          email: "sneaky@acme.example",
          password: "correct horse battery staple",
          role: "admin",
        }),
      });
      return { list: list.status, create: create.status, code: (await create.json()).error.code };
    }, rig.accountId);
    assert.deepEqual(answers, { list: 403, create: 403, code: "FORBIDDEN" });
    const users = (await rig.api("GET", "/users")).body.data.users;
    assert.ok(!users.some((u: { email: string }) => u.email === "sneaky@acme.example"));

    // Analysts read profiles and rules but cannot change them.
    await page.goto("/settings/rules");
    await page.getByRole("link", { name: "All conversations" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "New rule" }).count(), 0);
  });

  test("a change without the CSRF token is refused, even from a signed-in page", async () => {
    const page = await rig.newPage();
    await rig.signIn(page, rig.users.admin);
    const status = await page.evaluate(async (accountId) => {
      const answer = await fetch(`/api/v1/accounts/${accountId}/api-keys`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "no csrf" }),
      });
      return answer.status;
    }, rig.accountId);
    assert.equal(status, 403);
  });

  test("signing out ends the session for the API too", async () => {
    const page = await rig.newPage();
    await rig.signIn(page, rig.users.supervisor);
    const me = (accountId: string) => fetch(`/api/v1/accounts/${accountId}/me`).then((r) => r.status);
    assert.equal(await page.evaluate(me, rig.accountId), 200);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await page.evaluate(me, rig.accountId), 401);
    assert.equal(
      (await page.context().cookies()).some((c) => c.name === "cqa_session"),
      false,
    );
  });

  test("keyboard, labels and a laptop screen", async () => {
    const page = await rig.newPage({ width: 1280, height: 720 });
    await rig.signIn(page, rig.users.admin);
    await page.locator("tbody tr").first().waitFor();
    // The first Tab reaches "Skip to content", which moves focus to the page.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement?.id), "main");

    const pages = [
      "/analyses",
      `/analyses/${rig.voice.analysisId}`,
      "/insights",
      "/settings/profiles",
      "/settings/rules/new",
      "/settings/metadata-fields",
      "/settings/users",
      "/settings/api-keys",
      "/integrations",
    ];
    for (const path of pages) {
      await page.goto(path);
      await page.getByRole("heading", { level: 1 }).first().waitFor();
      await page.waitForLoadState("networkidle");
      const report = await page.evaluate(() => {
        const unlabelled = [...document.querySelectorAll("input, select, textarea")]
          .filter((el) => (el as HTMLInputElement).type !== "hidden")
          .filter((el) => {
            const control = el as HTMLInputElement;
            return (
              (control.labels?.length ?? 0) === 0 &&
              !control.getAttribute("aria-label") &&
              !control.getAttribute("aria-labelledby")
            );
          })
          .map((el) => el.outerHTML.slice(0, 120));
        const buttonsWithoutName = [...document.querySelectorAll("button")]
          .filter((b) => !(b.textContent ?? "").trim() && !b.getAttribute("aria-label"))
          .map((b) => b.outerHTML.slice(0, 120));
        return {
          unlabelled,
          buttonsWithoutName,
          overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        };
      });
      assert.deepEqual(report.unlabelled, [], `${path}: every control has a label`);
      assert.deepEqual(report.buttonsWithoutName, [], `${path}: every button has a name`);
      assert.ok(
        report.overflow <= 0,
        `${path}: nothing wider than a 1280 px laptop screen (${report.overflow} px over)`,
      );
    }
  });
});
