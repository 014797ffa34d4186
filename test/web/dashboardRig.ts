// The browser tests' rig: a real cqa on a real port with seeded conversations (analysed by the real
// pipeline), users of every role, and headless Chromium (the Debian package) driven by playwright-core.
// Nothing of the API is mocked: the pages talk to cqa as they do in production.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type { AnyConnectorDefinition } from "../../src/connectors/registry.ts";
import { ManualClock } from "../../src/core/clock.ts";
import { accountPath, roomyLimits, strongPassword } from "../security/tenants.ts";
import { startTestCqa, type TestCqa } from "../support/testCqa.ts";

export const chromiumPath = process.env["CQA_CHROMIUM"] ?? "/usr/bin/chromium";
const repoRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
/**
 * Where the tests put their screenshots: a temporary directory, so that a test run leaves the working
 * tree as it was; `npm run screenshots` (CQA_SCREENSHOT_DIR=docs/screenshots) refreshes the README's.
 */
export const screenshotDir = resolve(
  repoRoot,
  process.env["CQA_SCREENSHOT_DIR"] || join(tmpdir(), "cqa-screenshots"),
);

export interface RigUser {
  email: string;
  password: string;
  userId: string;
}

export interface DashboardRig {
  cqa: TestCqa;
  clock: ManualClock;
  /** http://127.0.0.1:<port> */
  url: string;
  accountId: string;
  apiKey: string;
  users: { admin: RigUser; supervisor: RigUser; analyst: RigUser; agent: RigUser };
  /** The voice call with a recording and a timed transcript. */
  voice: { interactionId: string; analysisId: string; externalId: string };
  browser: Browser;
  /** A fresh browser context (own cookies and storage) at a laptop-sized viewport. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  signIn(page: Page, user: RigUser): Promise<void>;
  /** The API as the account's admin key sees it. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  screenshot(page: Page, name: string): Promise<void>;
  stop(): Promise<void>;
}

/** A timed support call (SRT): greeting, empathy, identity check, hold, closing. */
export const timedCall = `1
00:00:00,500 --> 00:00:04,000
Agent: Thank you for calling Acme support, my name is Priya, how can I help you today?

2
00:00:04,500 --> 00:00:09,000
Customer: Hi, my internet has been dropping every evening and it is really annoying.

3
00:00:09,500 --> 00:00:15,000
Agent: I'm sorry to hear that, I understand how frustrating that must be. Can you confirm your date of birth for me?

4
00:00:15,500 --> 00:00:18,000
Customer: Sure, it's the 4th of March 1985, card [CARD NUMBER] is on the account.

5
00:00:18,500 --> 00:00:22,000
Agent: Thank you. Let me check the line, please hold for a moment.

6
00:00:52,000 --> 00:00:58,000
Agent: Thank you for holding. I found a fault on the line and booked an engineer for tomorrow morning.

7
00:00:58,500 --> 00:01:01,000
Customer: That's great, thanks.

8
00:01:01,500 --> 00:01:06,000
Agent: Is there anything else I can help you with today? Thank you for calling, have a great day.`;

const opening =
  "Agent: Good morning, thank you for calling Acme. How can I help you today?\nCustomer: My bill is wrong this month.\n";
const empathy = "Agent: I'm sorry to hear that, I understand how annoying that is.\n";
const verify = "Agent: Could you confirm your date of birth for me?\nCustomer: The 1st of May 1980.\n";
const fix = "Agent: Thanks. I have corrected the bill and refunded the difference.\nCustomer: Great.\n";
const closing = "Agent: Is there anything else I can help you with? Thank you for calling, have a great day.";

/** Conversations of different quality, so lists, trends and pass rates have something to show. */
const transcripts = {
  excellent: opening + empathy + verify + fix + closing,
  noEmpathy: opening + verify + fix + closing,
  noVerification: opening + empathy + fix + closing,
  noClosing: opening + empathy + verify + fix + "Agent: Done.",
  poor:
    "Agent: Yeah?\nCustomer: I was charged twice for my subscription this month.\n" +
    "Agent: That's not my problem, you should have read the terms.\nCustomer: Can you at least check my account?\n" +
    "Agent: Whatever. Call back tomorrow.",
};
type Quality = keyof typeof transcripts;

/** Each agent's habits; agent-7 gets better in the second week. */
function qualityOf(agent: string, day: number, n: number): Quality {
  const habits: Record<string, Quality[]> = {
    "agent-42": ["excellent", "excellent", "noEmpathy", "excellent"],
    "agent-19": ["noEmpathy", "noClosing", "excellent", "noVerification"],
    "agent-7": day < 7 ? ["poor", "noVerification", "noClosing"] : ["noEmpathy", "excellent", "noClosing"],
  };
  const list = habits[agent] ?? ["excellent"];
  return list[(2 * day + n) % list.length]!;
}

/** A mono 16-bit PCM WAV of a soft tone: a real recording the browser can decode and seek in. */
export function toneWav(seconds: number, rate = 8000): Buffer {
  const samples = Math.round(seconds * rate);
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write("RIFF", 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write("WAVE", 8);
  wav.write("fmt ", 12);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36);
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    wav.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 220 * i) / rate) * 1200), 44 + i * 2);
  }
  return wav;
}

const agents = [
  { id: "agent-42", name: "Priya", team: "north" },
  { id: "agent-7", name: "Tom", team: "south" },
  { id: "agent-19", name: "Lena", team: "north" },
];

/** Starts cqa with two weeks of analysed conversations and one user per role. */
export async function startDashboardRig(
  options: { conversationsPerDay?: number; connectors?: readonly AnyConnectorDefinition[] } = {},
): Promise<DashboardRig> {
  const realNow = Date.now();
  const clock = new ManualClock(new Date(realNow - 13 * 86_400_000).toISOString());
  const cqa = await startTestCqa({
    clock,
    listen: true,
    ...(options.connectors ? { connectors: options.connectors } : {}),
  });
  const url = cqa.running.url!;
  const created = await cqa.request("POST", "/api/v1/accounts", {
    bearer: "test-operator-token-0123456789abcdef",
    body: { name: "Acme Support", timezone: "Asia/Kolkata", limits: roomyLimits },
  });
  assert.equal(created.status, 201, created.text);
  const accountId = created.body.data.account_id as string;
  const apiKey = created.body.data.api_key as string;
  const base = accountPath(accountId);
  const api = async (method: string, path: string, body?: unknown) => {
    const answer = await cqa.request(method, `${base}${path}`, {
      apiKey,
      ...(body === undefined ? {} : { body }),
    });
    return { status: answer.status, body: answer.body };
  };

  for (const field of [
    { key: "agent_id", label: "Agent", access_controlled: false },
    { key: "team", label: "Team", access_controlled: true },
    { key: "campaign", label: "Campaign", access_controlled: false },
  ]) {
    const saved = await api("POST", "/metadata-fields", field);
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
  }

  const makeUser = async (
    role: string,
    email: string,
    extra: Record<string, unknown> = {},
  ): Promise<RigUser> => {
    const answer = await api("POST", "/users", { email, password: strongPassword, role, ...extra });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return { email, password: strongPassword, userId: answer.body.data.user_id };
  };
  const users = {
    admin: await makeUser("admin", "ada.admin@acme.example", { display_name: "Ada Admin" }),
    supervisor: await makeUser("supervisor", "sam.supervisor@acme.example", {
      display_name: "Sam Supervisor",
    }),
    analyst: await makeUser("analyst", "ana.analyst@acme.example", { display_name: "Ana Analyst" }),
    agent: await makeUser("agent", "priya.agent@acme.example", {
      display_name: "Priya",
      agent_id: "agent-42",
    }),
  };

  // Two weeks of conversations, a few a day, analysed by the real pipeline as they arrive.
  const perDay = options.conversationsPerDay ?? 3;
  let n = 0;
  for (let day = 0; day < 14; day++) {
    clock.set(new Date(realNow - (13 - day) * 86_400_000 - 3 * 3_600_000).toISOString());
    for (let i = 0; i < perDay; i++) {
      const agent = agents[n % agents.length]!;
      const kind = qualityOf(agent.id, day, n);
      n++;
      const answer = await api("POST", "/ingress/interactions", {
        external_interaction_id: `call-${String(n).padStart(4, "0")}`,
        channel_type: n % 4 === 0 ? "CHAT" : "VOICE",
        source: "ecc",
        language: "en",
        transcript_text: transcripts[kind],
        metadata: { agent_id: agent.id, team: agent.team, campaign: n % 3 === 0 ? "retention" : "support" },
      });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
    }
    await cqa.drain();
  }

  // The voice call of the review flows: a real recording and a timed transcript.
  clock.set(new Date(realNow - 3_600_000).toISOString());
  const form = new FormData();
  form.set("external_interaction_id", "priya-2026-support-call");
  form.set("channel_type", "VOICE");
  form.set("source", "ecc");
  form.set("language", "en");
  form.set("duration_seconds", "70");
  form.set("transcript_text", timedCall);
  form.set("metadata", JSON.stringify({ agent_id: "agent-42", team: "north", campaign: "support" }));
  form.set("audio", new Blob([new Uint8Array(toneWav(70))], { type: "audio/wav" }), "call.wav");
  const voice = await cqa.request("POST", `${base}/ingress/interactions`, { apiKey, rawBody: form });
  assert.equal(voice.status, 201, voice.text);
  await cqa.drain();
  const interactionId = voice.body.data.interaction_id as string;
  const detail = await api("GET", `/ingress/interactions/${interactionId}`);
  assert.equal(detail.body.data.status, "completed", JSON.stringify(detail.body));
  const analysisId = detail.body.data.analyses[0].analysis_id as string;
  clock.set(new Date(realNow).toISOString());

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
  const contexts: BrowserContext[] = [];

  return {
    cqa,
    clock,
    url,
    accountId,
    apiKey,
    users,
    voice: { interactionId, analysisId, externalId: "priya-2026-support-call" },
    browser,
    api,
    async newPage(viewport = { width: 1440, height: 900 }) {
      const context = await browser.newContext({ viewport, baseURL: url, acceptDownloads: true });
      context.setDefaultTimeout(20_000);
      contexts.push(context);
      return context.newPage();
    },
    async signIn(page, user) {
      await page.goto(`/sign-in?account=${accountId}`);
      await page.getByLabel("E-mail").fill(user.email);
      await page.getByLabel("Password").fill(user.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("navigation", { name: "Main" }).waitFor();
    },
    async screenshot(page, name) {
      mkdirSync(screenshotDir, { recursive: true });
      await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
    },
    async stop() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close().catch(() => {});
      await cqa.stop();
    },
  };
}
