// Embedding cqa in another application (the ECC4x agent desktop): the application's server asks for a
// signed, short-lived link with the account's API key; its page frames the link. Headless Chromium
// shows that a page on an allowed origin frames the embedded conversation list and detail, and that
// the browser refuses to frame cqa for a page on any other origin.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type LocalServer, startLocalServer } from "../support/httpPeers.ts";
import { type CreatedAccount, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import { chromiumPath } from "./dashboardRig.ts";

const transcript =
  "Agent: Good morning, thank you for calling Acme. How can I help you today?\nCustomer: My bill is wrong.\n" +
  "Agent: I'm sorry to hear that. I have corrected it.\nAgent: Is there anything else? Have a great day.";

/** A page of the embedding application: it frames whatever `?src=` names. */
async function hostApplication(): Promise<LocalServer> {
  return startLocalServer((request, response) => {
    const src = new URL(request.path, "http://host").searchParams.get("src") ?? "";
    response.setHeader("content-type", "text/html; charset=utf-8");
    response.end(
      `<!doctype html><html><head><title>ECC4x agent desktop</title></head><body>` +
        `<h1>Agent desktop</h1><iframe title="Quality" src="${src.replaceAll('"', "&quot;")}" width="1200" height="800"></iframe>` +
        `</body></html>`,
    );
  });
}

describe("embedded dashboard pages in another application's iframe", () => {
  let cqa: TestCqa;
  let account: CreatedAccount;
  let allowedHost: LocalServer;
  let otherHost: LocalServer;
  let browser: Browser;
  let interactionId: string;
  const contexts: BrowserContext[] = [];
  /** The host page as Chromium sees it: on localhost, another site than cqa (127.0.0.1). */
  const hostUrl = (host: LocalServer, src: string) =>
    `${host.url.replace("127.0.0.1", "localhost")}/desk?src=${encodeURIComponent(src)}`;
  /** What the embedding application's server does for each page it renders: ask for a fresh link. */
  const link = async (page: string) => {
    const answer = await fetch(`${cqa.running.url}/api/v1/accounts/${account.accountId}/embed-tokens`, {
      method: "POST",
      headers: { "x-api-key": account.apiKey, "content-type": "application/json" },
      body: JSON.stringify({ email: "sam@acme.example", page }),
    });
    const body = (await answer.json()) as { data: { url: string } };
    assert.equal(answer.status, 201, JSON.stringify(body));
    assert.ok(body.data.url.startsWith(`${cqa.running.url}/embed${page.split("?")[0]}?`), body.data.url);
    return body.data.url;
  };
  const newPage = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    return context.newPage();
  };

  before(async () => {
    allowedHost = await hostApplication();
    otherHost = await hostApplication();
    cqa = await startTestCqa({ listen: true });
    account = await cqa.createAccount({
      name: "Acme",
      embed_origins: [allowedHost.url.replace("127.0.0.1", "localhost")],
    });
    const user = await cqa.request("POST", `/api/v1/accounts/${account.accountId}/users`, {
      apiKey: account.apiKey,
      body: {
        email: "sam@acme.example",
        password: "a strong password 1",
        role: "supervisor",
        display_name: "Sam",
      },
    });
    assert.equal(user.status, 201, user.text);
    for (const id of ["embedded-call-1", "embedded-call-2"]) {
      const ingested = await cqa.request(
        "POST",
        `/api/v1/accounts/${account.accountId}/ingress/interactions`,
        {
          apiKey: account.apiKey,
          body: { external_interaction_id: id, channel_type: "CHAT", transcript_text: transcript },
        },
      );
      assert.equal(ingested.status, 201, ingested.text);
      if (id === "embedded-call-2") interactionId = ingested.body.data.interaction_id;
    }
    await cqa.drain();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await cqa?.stop();
    await allowedHost?.close();
    await otherHost?.close();
  });

  test("a page on an allowed origin frames the embedded conversation list, without cqa's own navigation", async () => {
    const page = await newPage();
    await page.goto(hostUrl(allowedHost, await link("/analyses")));
    const frame = page.frameLocator("iframe[title=Quality]");
    await frame.getByText("embedded-call-1").first().waitFor();
    await frame.getByText("embedded-call-2").first().waitFor();
    assert.equal(
      await frame.getByRole("navigation", { name: "Main" }).count(),
      0,
      "no sidebar when embedded",
    );
    // Inside the frame the user moves from the list to a conversation, still embedded.
    await frame.getByText("embedded-call-2").first().click();
    await frame.getByRole("heading", { name: "embedded-call-2" }).waitFor();
    const framed = page.frames().find((f) => f !== page.mainFrame());
    assert.match(framed?.url() ?? "", /\/embed\/(analyses|interactions)\//);
  });

  test("a link can open a conversation's detail page directly", async () => {
    const page = await newPage();
    await page.goto(hostUrl(allowedHost, await link(`/interactions/${interactionId}`)));
    await page
      .frameLocator("iframe[title=Quality]")
      .getByRole("heading", { name: "embedded-call-2" })
      .waitFor();
  });

  test("a page on another origin is refused by the browser: cqa never shows inside it", async () => {
    const page = await newPage();
    const refusals: string[] = [];
    page.on("console", (message) => {
      if (/frame-ancestors/.test(message.text())) refusals.push(message.text());
    });
    const url = await link("/analyses");
    await page.goto(hostUrl(otherHost, url));
    await page.getByRole("heading", { name: "Agent desktop" }).waitFor();
    const deadline = Date.now() + 20_000;
    while (refusals.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(refusals.length > 0, "Chromium reports the frame-ancestors refusal");
    assert.match(
      refusals[0]!,
      /(Refused to frame|violates the following Content Security Policy directive).*frame-ancestors 'self' http:\/\/localhost:\d+/,
    );
    assert.ok(
      !refusals[0]!.includes(otherHost.url.split(":").at(-1)!),
      "the other origin is not among the allowed",
    );
    const framed = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(!framed?.url().startsWith(cqa.running.url!), `the frame shows no cqa page (${framed?.url()})`);
    assert.equal(await page.frameLocator("iframe[title=Quality]").getByText("embedded-call-1").count(), 0);
  });

  test("a link opens once: the same link again shows that it was used, not the data", async () => {
    const url = await link("/analyses");
    const first = await newPage();
    await first.goto(hostUrl(allowedHost, url));
    await first.frameLocator("iframe[title=Quality]").getByText("embedded-call-1").first().waitFor();
    const second = await newPage();
    await second.goto(hostUrl(allowedHost, url));
    const frame = second.frameLocator("iframe[title=Quality]");
    await frame.getByText(/expired or was used already/).waitFor();
    assert.equal(await frame.getByText("embedded-call-1").count(), 0);
  });
});
