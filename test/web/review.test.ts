// The QA manager's day in the dashboard, in headless Chromium against a running cqa: sign in, filter
// the list, choose columns (kept by cqa, so the same in another browser), export CSV, open a
// conversation, play from an evidence span, override a KPI (and see the score change through the
// API), raise and resolve a dispute, see why a conversation was (not) analysed, read the insights,
// and use the pages embedded in an iframe.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Page, Response } from "playwright-core";
import { accountPath, login } from "../security/tenants.ts";
import { startLocalServer } from "../support/httpPeers.ts";
import { type DashboardRig, startDashboardRig } from "./dashboardRig.ts";

const day = (offset: number) => {
  // Dates as the account (Asia/Kolkata) reads them.
  const at = new Date(Date.now() + offset * 86_400_000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Kolkata" }).format(at);
};

/** The column headers of the conversation list as shown. */
async function headers(page: Page): Promise<string[]> {
  return (await page.locator("thead th").allTextContents()).map((h) => h.trim());
}

/** Waits until the list shows the user's saved column choice (cqa has answered it). */
async function columnsLoaded(page: Page): Promise<void> {
  await page.locator("details.menu[aria-busy='false']").waitFor({ state: "attached" });
}

describe("dashboard: review flows in a real browser", () => {
  let rig: DashboardRig;
  let page: Page;

  before(async () => {
    rig = await startDashboardRig();
    page = await rig.newPage();
  });

  after(async () => {
    await rig?.stop();
  });

  test("sign-in page, then the conversations of the last week", async () => {
    await page.goto(`/?account=${rig.accountId}`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(
      await page.getByLabel("Account ID").inputValue(),
      rig.accountId,
      "the account comes from the link",
    );
    await rig.screenshot(page, "sign-in");
    await page.getByLabel("E-mail").fill(rig.users.supervisor.email);
    await page.getByLabel("Password").fill("not the password at all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong email or password" }).waitFor();

    await rig.signIn(page, rig.users.supervisor);
    assert.equal(new URL(page.url()).pathname, "/analyses");
    await page.locator("tbody tr").first().waitFor();
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "cqa_session");
    assert.ok(
      session?.httpOnly && session.sameSite === "Strict",
      "an HttpOnly SameSite=Strict session cookie",
    );
    assert.equal(
      await page.evaluate(() => document.cookie.includes("cqa_session")),
      false,
      "script cannot read it",
    );
  });

  test("filters by dates, metadata and score, with the totals the API gives", async () => {
    await page.getByLabel("From", { exact: true }).fill(day(-13));
    await page.getByLabel("To", { exact: true }).fill(day(0));
    await page.getByRole("button", { name: "Apply" }).click();
    const all = await rig.api("POST", "/analyses?limit=1", {
      other_filters: [
        { field: "date", operator: "range", value: { start_date: day(-13), end_date: day(0) } },
      ],
    });
    const total = all.body.data.pagination.total as number;
    assert.ok(total >= 40, `seeded conversations are listed (${total})`);
    await page.getByRole("heading", { name: `${total} analyses` }).waitFor();
    await rig.screenshot(page, "conversations");

    await page.getByLabel("Metadata", { exact: true }).selectOption("agent_id");
    await page.getByLabel("Condition").selectOption("equals");
    await page.getByLabel("Value").fill("agent-7");
    await page.getByRole("button", { name: "Add filter" }).click();
    await page.getByRole("list", { name: "Active metadata filters" }).getByText("agent-7").waitFor();
    const agent7 = await rig.api("POST", "/analyses?limit=100", {
      other_filters: [
        { field: "date", operator: "range", value: { start_date: day(-13), end_date: day(0) } },
      ],
      metadata_filter_group: [[{ field: "agent_id", operator: "equals", value: "agent-7" }]],
    });
    const count = agent7.body.data.pagination.total as number;
    await page.getByRole("heading", { name: `${count} analyses` }).waitFor();
    const agents = await page.locator("tbody tr td:last-child").allTextContents();
    assert.ok(
      agents.length > 0 && agents.every((a) => a === "agent-7"),
      `only agent-7: ${agents.join(", ")}`,
    );

    await page.getByLabel("Score to").fill("40");
    await page.getByRole("button", { name: "Apply" }).click();
    const lowOnes = agent7.body.data.analyses.filter(
      (a: { final_score: number }) => a.final_score <= 40,
    ).length;
    await page
      .getByRole("heading", { name: `${lowOnes} ${lowOnes === 1 ? "analysis" : "analyses"}` })
      .waitFor();
    const scores = await page.locator("tbody tr td.num strong").allTextContents();
    assert.ok(
      scores.every((s) => Number(s) <= 40),
      `scores at most 40: ${scores.join(", ")}`,
    );

    // The view is in the URL: Back returns to the unfiltered-by-score list.
    await page.goBack();
    await page.getByRole("heading", { name: `${count} analyses` }).waitFor();
  });

  test("the chosen columns are kept by cqa per user: the same in a fresh browser, not for others", async () => {
    const isColumnsSave = (method: string) => (response: Response) =>
      response.request().method() === method &&
      new URL(response.url()).pathname.endsWith("/me/preferences/analysis_list_columns");
    await page.getByText("Columns", { exact: true }).click();
    await page.getByRole("checkbox", { name: "Campaign" }).check();
    const saved = page.waitForResponse(
      (r) => isColumnsSave("PUT")(r) && !r.request().postDataJSON().value.includes("qa"),
    );
    await page.getByRole("checkbox", { name: "QA score" }).uncheck();
    assert.equal((await saved).status(), 200, "the choice is saved to cqa");
    await page.getByText("Columns", { exact: true }).click();
    assert.ok((await headers(page)).includes("Campaign"));
    assert.ok(!(await headers(page)).includes("QA score"));
    const supervisorToken = await login(rig.cqa, rig.accountId, rig.users.supervisor);
    const stored = await rig.cqa.request("GET", `${accountPath(rig.accountId)}/me/preferences`, {
      bearer: supervisorToken,
    });
    assert.deepEqual(
      stored.body.data.preferences.analysis_list_columns,
      ["conversation", "created", "profile", "status", "final", "meta:agent_id", "meta:campaign"],
      "the API answers the same choice to the supervisor's own session",
    );
    await page.reload();
    await page.locator("tbody tr").first().waitFor();
    await columnsLoaded(page);
    assert.ok((await headers(page)).includes("Campaign"), "kept after a reload");

    // Another browser (own cookies, empty storage), the same user: the same columns.
    const elsewhere = await rig.newPage();
    await rig.signIn(elsewhere, rig.users.supervisor);
    await elsewhere.locator("tbody tr").first().waitFor();
    await columnsLoaded(elsewhere);
    assert.ok((await headers(elsewhere)).includes("Campaign"), "the choice followed the user");
    assert.ok(!(await headers(elsewhere)).includes("QA score"));

    // Another user in a fresh browser: the default columns.
    const analystPage = await rig.newPage();
    await rig.signIn(analystPage, rig.users.analyst);
    await analystPage.locator("tbody tr").first().waitFor();
    await columnsLoaded(analystPage);
    assert.ok(!(await headers(analystPage)).includes("Campaign"), "the analyst sees the default columns");
    assert.ok((await headers(analystPage)).includes("QA score"));

    // Another user on the same browser has their own choice too.
    await page.getByRole("button", { name: "Sign out" }).click();
    await rig.signIn(page, rig.users.analyst);
    await page.locator("tbody tr").first().waitFor();
    await columnsLoaded(page);
    assert.ok(!(await headers(page)).includes("Campaign"), "the analyst sees the default columns");
    await page.getByRole("button", { name: "Sign out" }).click();
    await rig.signIn(page, rig.users.supervisor);
    await page.locator("tbody tr").first().waitFor();
    await columnsLoaded(page);
    assert.ok((await headers(page)).includes("Campaign"), "the supervisor's choice is still there");

    // "Default columns" in one browser resets the choice everywhere (the other browser's copy is only a cache).
    await elsewhere.getByText("Columns", { exact: true }).click();
    const reset = elsewhere.waitForResponse(isColumnsSave("DELETE"));
    await elsewhere.getByRole("button", { name: "Default columns" }).click();
    assert.equal((await reset).status(), 200);
    assert.ok((await headers(elsewhere)).includes("QA score"));
    await page.reload();
    await page.locator("tbody tr").first().waitFor();
    await columnsLoaded(page);
    assert.ok(!(await headers(page)).includes("Campaign"), "the reset reached the first browser");
    assert.ok((await headers(page)).includes("QA score"));
  });

  test("CSV export of the current view: the visible columns, every matching row", async () => {
    const path = `/analyses?from=${day(-13)}&to=${day(0)}&filters=${encodeURIComponent(
      JSON.stringify([{ field: "team", operator: "equals", value: "north" }]),
    )}`;
    await page.goto(path);
    await page.locator("tbody tr").first().waitFor();
    const expected = await rig.api("POST", "/analyses?limit=100", {
      other_filters: [
        { field: "date", operator: "range", value: { start_date: day(-13), end_date: day(0) } },
      ],
      metadata_filter_group: [[{ field: "team", operator: "equals", value: "north" }]],
    });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    const csv = readFileSync((await download.path())!, "utf8")
      .trim()
      .split("\r\n");
    const headers = (await page.locator("thead th").allTextContents()).map((h) => h.trim());
    assert.equal(csv[0], headers.join(","));
    assert.equal(csv.length - 1, expected.body.data.pagination.total, "one line per matching analysis");
    const ids = new Set(
      expected.body.data.analyses.map((a: { external_interaction_id: string }) => a.external_interaction_id),
    );
    assert.ok(
      csv.slice(1).every((line) => ids.has(line.split(",")[0]!)),
      "the rows of the view, nothing else",
    );
  });

  test("a conversation: transcript by speaker, redactions visible, play from an evidence span", async () => {
    await page.goto("/analyses");
    await page.getByRole("link", { name: rig.voice.externalId }).click();
    await page.getByRole("heading", { name: rig.voice.externalId }).waitFor();
    const transcript = page.getByRole("list", { name: "Transcript" });
    await transcript.getByText("Thank you for calling Acme support").waitFor();
    assert.equal(await transcript.locator("li").count(), 8, "eight turns");
    // The source had already replaced the card number; the page shows it as redacted data.
    const redacted = transcript.locator(".redaction").filter({ hasText: "[CARD NUMBER]" });
    assert.equal(await redacted.count(), 1);
    assert.match((await redacted.textContent()) ?? "", /^redacted .*: \[CARD NUMBER\]$/);
    const audio = page.getByTestId("recording");
    await page.waitForFunction(() => {
      const element = document.querySelector<HTMLAudioElement>("[data-testid=recording]");
      return element !== null && element.readyState >= 1 && Math.round(element.duration) === 70;
    });

    const evidence = page.getByRole("button", { name: /0:09 “date of birth”/ });
    await evidence.click();
    await page.waitForFunction(() => {
      const element = document.querySelector<HTMLAudioElement>("[data-testid=recording]");
      return element !== null && element.currentTime >= 9 && element.currentTime < 15;
    });
    assert.equal(await evidence.getAttribute("aria-pressed"), "true");
    assert.equal(await page.locator("mark.evidence-active").first().textContent(), "date of birth");
    assert.ok(await audio.isVisible());
    await rig.screenshot(page, "conversation");

    await page.getByRole("button", { name: "Play from 0:52" }).click();
    await page.waitForFunction(() => {
      const element = document.querySelector<HTMLAudioElement>("[data-testid=recording]");
      return element !== null && element.currentTime >= 52 && element.currentTime < 60;
    });
  });

  test("a QA override changes the score on the page and through the API, and is kept in the history", async () => {
    const before = await rig.api("GET", `/analyses/${rig.voice.analysisId}`);
    assert.equal(before.body.data.final_score, 60);
    const empathy = page.getByRole("article", { name: "KPI Empathy" });
    await empathy.getByRole("button", { name: "Override" }).click();
    await empathy.getByLabel("QA answer").selectOption({ label: "No (0 points)" });
    await empathy
      .getByLabel("Justification")
      .fill("The apology was read from a script, without any real empathy");
    await empathy.getByRole("button", { name: "Save override" }).click();
    await page.getByRole("status").filter({ hasText: "Override saved: Empathy. Score 60 → 50" }).waitFor();
    assert.equal((await page.getByTestId("final-score").textContent())?.replace(/\s/g, ""), "50/60");
    await empathy.getByText("QA override:").waitFor();

    const after = await rig.api("GET", `/analyses/${rig.voice.analysisId}`);
    assert.equal(after.body.data.final_score, 50, "the API answers the new score");
    assert.equal(after.body.data.qa_score, 50);
    const kpi = after.body.data.categories
      .flatMap((c: { sub_categories: { kpis: unknown[] }[] }) => c.sub_categories.flatMap((s) => s.kpis))
      .find((k: { kpi_name: string }) => k.kpi_name === "Empathy");
    assert.equal(kpi.final_response, "No");
    assert.equal(kpi.qa_justification, "The apology was read from a script, without any real empathy");

    await page.getByRole("tab", { name: "History" }).click();
    await page
      .getByRole("list", { name: "History of changes" })
      .getByText(`user:${rig.users.supervisor.email} set Empathy to No (0 points)`)
      .waitFor();
  });

  test("an agent raises a dispute; a supervisor accepts it and the score follows", async () => {
    const agentPage = await rig.newPage();
    await rig.signIn(agentPage, rig.users.agent);
    await agentPage.goto(`/analyses/${rig.voice.analysisId}`);
    const empathy = agentPage.getByRole("article", { name: "KPI Empathy" });
    assert.equal(
      await empathy.getByRole("button", { name: "Override" }).count(),
      0,
      "agents cannot override",
    );
    await empathy.getByRole("button", { name: "Dispute" }).click();
    const dialog = agentPage.getByRole("dialog", { name: "Raise a dispute" });
    assert.equal(await dialog.getByLabel("What is disputed").inputValue(), "empathy");
    await dialog.getByLabel("Reason").fill("I apologised and said I understood at 0:09; please listen again");
    await dialog.getByRole("button", { name: "Raise dispute" }).click();
    await agentPage.getByRole("tab", { name: "Disputes (1 open)" }).waitFor();
    const raised = await rig.api("GET", `/analyses/${rig.voice.analysisId}/disputes`);
    assert.equal(raised.body.data.disputes.length, 1);
    assert.equal(raised.body.data.disputes[0].status, "open");
    assert.equal(raised.body.data.disputes[0].raised_by, `user:${rig.users.agent.email}`);

    await page.reload();
    await page.getByRole("tab", { name: "Disputes (1 open)" }).click();
    const dispute = page.getByRole("article", { name: "Dispute on Empathy" });
    await dispute.getByText("I apologised and said I understood").waitFor();
    await dispute.getByLabel("Accept").check();
    await dispute.getByLabel("Change the answer to").selectOption({ label: "Yes (10 points)" });
    await dispute.getByLabel("Justification of the change").fill("Empathy was there at 0:09");
    await dispute.getByLabel("Comment").fill("Agreed after listening again");
    await dispute.getByRole("button", { name: "Resolve dispute" }).click();
    await page.getByRole("tab", { name: "Disputes", exact: true }).waitFor();
    await dispute.getByText("accepted").waitFor();
    assert.equal((await page.getByTestId("final-score").textContent())?.replace(/\s/g, ""), "60/60");

    const resolved = await rig.api("GET", `/analyses/${rig.voice.analysisId}/disputes`);
    assert.equal(resolved.body.data.disputes[0].status, "resolved");
    assert.equal(resolved.body.data.disputes[0].resolution, "ACCEPTED");
    assert.equal((await rig.api("GET", `/analyses/${rig.voice.analysisId}`)).body.data.final_score, 60);
  });

  test("why a conversation was analysed, and why another was not", async () => {
    await page.getByRole("tab", { name: "Why analysed" }).click();
    await page.getByText("Analysed because:").waitFor();
    await page
      .getByRole("list", { name: "Rules, in the order they were evaluated" })
      .getByText("matched")
      .waitFor();

    // A conversation that arrives while no rule applies is stored but not analysed, and says why.
    const rules = await rig.api("GET", "/assignment-rules");
    const catchAll = rules.body.data.assignment_rules[0].id as string;
    await rig.api("PATCH", `/assignment-rules/${catchAll}`, { enabled: false });
    await rig.api("POST", "/ingress/interactions", {
      external_interaction_id: "survey-unrouted-1",
      channel_type: "CHAT",
      transcript_text: "Agent: Hello\nCustomer: Hi",
    });
    await rig.cqa.drain();
    await rig.api("PATCH", `/assignment-rules/${catchAll}`, { enabled: true });

    await page.goto("/analyses");
    await page.getByLabel("Find a conversation by id").fill("survey-unrouted-1");
    await page.getByRole("button", { name: "Open" }).click();
    await page.getByRole("heading", { name: "Why it was not analysed" }).waitFor();
    await page.getByText("Not analysed:").waitFor();
    await page.getByText(/Reason code: no_rule_matched|Reason code: no_rules/).waitFor();
  });

  test("insights: trend, by agent and by team, pass rates per KPI, lowest scores", async () => {
    await page.setViewportSize({ width: 1440, height: 1250 });
    await page.getByRole("link", { name: "Insights" }).click();
    await page.getByRole("img", { name: /Average score per day/ }).waitFor();
    const expected = await rig.api("GET", "/insights?group_by=agent_id");
    assert.equal(
      await page.locator(".stat-value").first().textContent(),
      String(expected.body.data.summary.analyses),
    );
    const byAgent = page.getByRole("list", { name: "Average score by Agent" });
    assert.equal(await byAgent.locator("li").count(), 3);
    const kpis = page.getByRole("list", { name: "Pass rate per KPI" });
    await kpis.getByText("Greeting").waitFor();
    const greeting = expected.body.data.kpis.find((k: { kpi_name: string }) => k.kpi_name === "Greeting");
    await kpis.getByText(`${greeting.pass_rate} % pass`).first().waitFor();
    const lowest = page.getByRole("list", { name: "Lowest-scoring conversations" });
    assert.equal(
      await lowest.getByRole("link").first().textContent(),
      expected.body.data.lowest[0].external_interaction_id,
    );
    await rig.screenshot(page, "insights");

    await page.getByLabel("Compare by").selectOption("team");
    await page.getByRole("button", { name: "Apply" }).click();
    const byTeam = page.getByRole("list", { name: "Average score by Team" });
    await byTeam.getByText("north").waitFor();
    assert.equal(await byTeam.locator("li").count(), 2);
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  test("embedded mode: the same pages without the chrome, inside an iframe", async () => {
    await page.goto(`/embed/analyses/${rig.voice.analysisId}`);
    await page.getByRole("heading", { name: rig.voice.externalId }).waitFor();
    assert.equal(await page.getByRole("navigation", { name: "Main" }).count(), 0, "no outer navigation");
    // A host page of the same site frames it (SameSite=Strict cookies are sent to same-site frames).
    await page.route(`${rig.url}/host-page-for-test`, (route) =>
      route.fulfill({
        contentType: "text/html",
        body: `<!doctype html><title>CRM</title><h1>Customer 360</h1>
          <iframe title="cqa" src="/embed/analyses" style="width:1200px;height:720px;border:1px solid #ccc"></iframe>`,
      }),
    );
    await page.goto("/host-page-for-test");
    const frame = page.frameLocator("iframe[title=cqa]");
    await frame.locator("tbody tr").first().waitFor();
    await frame.getByRole("link", { name: rig.voice.externalId }).click();
    await frame.getByRole("heading", { name: rig.voice.externalId }).waitFor();
    const inner = page.frames().find((f) => f.url().includes("/embed/analyses/"));
    assert.ok(inner, "links inside the frame stay in embedded mode");
    await rig.screenshot(page, "embedded");
  });

  test("a signed embed link opens the page for its user inside another site's frame, once", async (t) => {
    const link = await rig.api("POST", "/embed-tokens", {
      email: rig.users.supervisor.email,
      page: `/analyses/${rig.voice.analysisId}`,
    });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    const url = (link.body.data.url as string).replace(/^https?:\/\/[^/]+/, rig.url);
    // The host application is a real server on another site (localhost, not 127.0.0.1), so no cqa
    // cookie reaches the frame: the link alone signs the user in.
    const desktop = await startLocalServer((_request, response) => {
      response.setHeader("content-type", "text/html");
      response.end(
        `<!doctype html><title>Agent desktop</title><h1>Agent desktop</h1>` +
          `<iframe title="cqa" src="${url}" style="width:1200px;height:700px"></iframe>`,
      );
    });
    t.after(() => desktop.close());
    const host = desktop.url.replace("127.0.0.1", "localhost");
    const account = await rig.api("PATCH", "", { embed_origins: [host] });
    assert.equal(account.status, 200, JSON.stringify(account.body));

    const stranger = await rig.newPage();
    await stranger.goto(`${host}/agent-desktop`);
    const frame = stranger.frameLocator("iframe[title=cqa]");
    await frame.getByRole("heading", { name: rig.voice.externalId }).waitFor();
    await frame
      .getByRole("article", { name: "KPI Empathy" })
      .getByRole("button", { name: "Override" })
      .waitFor();
    assert.equal(await frame.getByRole("navigation", { name: "Main" }).count(), 0);

    // The link is spent: opened again (elsewhere), it signs nobody in and says why.
    const again = await rig.newPage();
    await again.goto(url);
    await again.getByText("This link has expired or was used already").waitFor();
  });
});
