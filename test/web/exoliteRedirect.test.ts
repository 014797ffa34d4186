// The cqa button of the Exolite dashboard, in headless Chromium: a signed, single-use, expiring link
// from another site lands the user on the link's dashboard page, signed in; an expired, tampered or
// replayed link gets a page that says so. The "Exolite dashboard" is a local page on another site.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { type RedirectClaims, signRedirectToken } from "../../src/connectors/exolite/redirectLink.ts";
import { defaultDashboardDir } from "../../src/server/dashboard.ts";
import { type LocalServer, startLocalServer } from "../support/httpPeers.ts";
import { type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";

const chromiumPath = process.env["CQA_CHROMIUM"] ?? "/usr/bin/chromium";

const secret = "exolite-shared-redirect-secret-0123456789abcdef";
const email = "priya@acme.example";

describe("Exolite dashboard redirect in headless Chromium", () => {
  let cqa: TestCqa;
  let account: CreatedAccount;
  let integrationId: string;
  let exoliteDashboard: LocalServer;
  let browser: Browser;
  let linkHref = "";

  const claims = (overrides: Partial<RedirectClaims> = {}): RedirectClaims => {
    const now = Math.floor(Date.now() / 1000);
    return {
      int: integrationId,
      sub: email,
      target: "/analyses",
      iat: now,
      exp: now + 120,
      nonce: randomBytes(16).toString("hex"),
      ...overrides,
    };
  };
  const launchUrl = (token: string) => `${cqa.running.url}/api/v1/exolite/launch?token=${token}`;
  const openPage = async (): Promise<Page> => (await browser.newContext()).newPage();

  before(async () => {
    cqa = await startTestCqa({ listen: true });
    account = await cqa.createAccount({ timezone: "Asia/Kolkata" });
    const created = await cqa.request("POST", `/api/v1/accounts/${account.accountId}/integrations`, {
      apiKey: account.apiKey,
      body: {
        kind: "exolite",
        name: "Exolite",
        schedule: null,
        config: {
          region: "custom",
          base_url: "http://127.0.0.1:9",
          account_sid: "acme1",
          api_key: "k",
          api_token: "t",
          redirect: { secret },
        },
      },
    });
    assert.equal(created.status, 201, created.text);
    integrationId = created.body.data.integration_id;
    const user = await cqa.request("POST", `/api/v1/accounts/${account.accountId}/users`, {
      apiKey: account.apiKey,
      body: { email, password: "correct horse battery staple", role: "analyst", display_name: "Priya" },
    });
    assert.equal(user.status, 201, user.text);
    // The Exolite dashboard's page with the cqa button: another site (localhost, not 127.0.0.1).
    exoliteDashboard = await startLocalServer((_request, response) => {
      response.setHeader("content-type", "text/html; charset=utf-8");
      response.end(`<!doctype html><title>Exolite</title><a id="cqa" href="${linkHref}">Open cqa</a>`);
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });
  after(async () => {
    await browser?.close();
    await exoliteDashboard?.close();
    await cqa?.stop();
  });

  test("a valid link from the Exolite dashboard lands the user on the target page, signed in", async () => {
    linkHref = launchUrl(signRedirectToken(claims(), secret));
    const page = await openPage();
    await page.goto(exoliteDashboard.url.replace("127.0.0.1", "localhost"));
    await page.click("#cqa");
    await page.waitForURL(`${cqa.running.url}/analyses`);
    const session = await page.evaluate(async () => (await fetch("/api/v1/auth/session")).json());
    assert.equal(session.data.signed_in, true);
    assert.equal(session.data.email, email);
    assert.equal(session.data.account_id, account.accountId);
    if (existsSync(join(defaultDashboardDir, "index.html"))) {
      // The dashboard shows who is signed in (the built dashboard is served on the same port).
      await page.getByText("Priya", { exact: true }).first().waitFor({ timeout: 20_000 });
    }
    await page.context().close();
  });

  test("a link used a second time is refused with a page that says so", async () => {
    const token = signRedirectToken(claims(), secret);
    const first = await openPage();
    await first.goto(launchUrl(token));
    await first.waitForURL(`${cqa.running.url}/analyses`);
    await first.context().close();
    const again = await openPage();
    const answer = await again.goto(launchUrl(token));
    assert.equal(answer?.status(), 403);
    await again.getByRole("heading", { name: "This sign-in link was used already" }).waitFor();
    const session = await (
      await again.context().request.get(`${cqa.running.url}/api/v1/auth/session`)
    ).json();
    assert.equal(session.data.signed_in, false, "no session from a replayed link");
    await again.context().close();
  });

  test("an expired link is refused with a page that says so", async () => {
    const now = Math.floor(Date.now() / 1000);
    const page = await openPage();
    const answer = await page.goto(
      launchUrl(signRedirectToken(claims({ iat: now - 600, exp: now - 300 }), secret)),
    );
    assert.equal(answer?.status(), 403);
    await page.getByRole("heading", { name: "This sign-in link has expired" }).waitFor();
    await page.context().close();
  });

  test("a tampered link (another user, same signature) is refused with a page that says so", async () => {
    const token = signRedirectToken(claims(), secret);
    const [, signature] = token.split(".");
    const forged = Buffer.from(JSON.stringify(claims({ sub: "boss@acme.example" }))).toString("base64url");
    const page = await openPage();
    const answer = await page.goto(launchUrl(`${forged}.${signature}`));
    assert.equal(answer?.status(), 403);
    await page.getByRole("heading", { name: "This sign-in link is not valid" }).waitFor();
    const session = await (await page.context().request.get(`${cqa.running.url}/api/v1/auth/session`)).json();
    assert.equal(session.data.signed_in, false, "no session from a tampered link");
    await page.context().close();
  });

  test("a link for an e-mail the account does not have is refused unless the integration creates users", async () => {
    const page = await openPage();
    const answer = await page.goto(
      launchUrl(signRedirectToken(claims({ sub: "new.agent@acme.example" }), secret)),
    );
    assert.equal(answer?.status(), 403);
    await page.getByRole("heading", { name: "You have no cqa access yet" }).waitFor();
    await page.context().close();
  });
});
