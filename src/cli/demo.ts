import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../config/config.ts";
import { startCqa } from "../server/runtime.ts";
import { waitForSignal } from "./signals.ts";

/** Sample conversations: a good support call, a poor one, and a chat (plain text, SRT, JSON). */
const sampleCalls = [
  {
    external_interaction_id: "demo-good-call",
    channel_type: "VOICE",
    source: "demo",
    language: "en",
    metadata: { agent_id: "agent-42", campaign: "retention", region: "north" },
    transcript_text: `1
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
Customer: Sure, it's the 4th of March 1985.

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
Agent: Is there anything else I can help you with today? Thank you for calling, have a great day.`,
  },
  {
    external_interaction_id: "demo-poor-call",
    channel_type: "VOICE",
    source: "demo",
    language: "en",
    metadata: { agent_id: "agent-7", campaign: "retention", region: "south" },
    transcript_text:
      "Agent: Yeah?\nCustomer: I was charged twice for my subscription this month.\n" +
      "Agent: That's not my problem, you should have read the terms.\nCustomer: Can you at least check my account?\n" +
      "Agent: Whatever. Call back tomorrow.\nCustomer: Unbelievable.",
  },
  {
    external_interaction_id: "demo-chat",
    channel_type: "CHAT",
    source: "web-chat",
    language: "en",
    metadata: { agent_id: "agent-42", campaign: "support", region: "north" },
    transcript_text:
      "Agent: Hello! Welcome to Acme, how can I help you today?\nCustomer: I need to reset my password.\n" +
      "Agent: Sure, I can help with that. Can you confirm the email address on your account?\n" +
      "Customer: jane@example.com\nAgent: Thanks, I've sent you a reset link. Is there anything else I can help with?\n" +
      "Customer: No, that's all.\nAgent: Thank you for contacting Acme, have a great day!",
  },
];

interface DemoAccount {
  account_id: string;
  api_key: string;
  /** The dashboard's demo admin (added by later versions of the demo to older data dirs). */
  dashboard_email?: string;
  dashboard_password?: string;
}

const demoAdminEmail = "admin@demo.cqa.local";

/**
 * Starts cqa on the embedded default, creates a demo account (once; kept in the data dir), ingests
 * the sample conversations through the real API, prints their scores, and keeps serving.
 */
export async function runDemo(env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadConfig(env);
  const running = await startCqa({ config });
  const say = (line = "") => process.stdout.write(`${line}\n`);
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const response = await running.app.request(path, {
      method,
      headers: { "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      body: (await response.json()) as { data?: Record<string, unknown>; message?: string },
    };
  };

  const accountFile = join(config.dataDir, "demo-account.json");
  let account: DemoAccount;
  if (existsSync(accountFile)) {
    account = JSON.parse(readFileSync(accountFile, "utf8")) as DemoAccount;
  } else {
    const created = await call(
      "POST",
      "/api/v1/accounts",
      { authorization: `Bearer ${running.secrets.operatorToken}` },
      { name: "Demo contact centre", limits: { conversation_cap: "unlimited" } },
    );
    if (created.status !== 201) throw new Error(`Could not create the demo account: ${created.body.message}`);
    account = {
      account_id: String(created.body.data?.["account_id"]),
      api_key: String(created.body.data?.["api_key"]),
    };
    writeFileSync(accountFile, JSON.stringify(account, null, 2), { mode: 0o600 });
  }
  const auth = { "x-api-key": account.api_key };
  const base = `/api/v1/accounts/${account.account_id}`;
  if (!account.dashboard_password) {
    account = { ...account, ...(await createDemoAdmin(call, base, auth)) };
    writeFileSync(accountFile, JSON.stringify(account, null, 2), { mode: 0o600 });
  }
  const run = Date.now().toString(36);

  say(`cqa demo — ${running.url} (embedded database in ${config.dataDir})`);
  say(`Account ${account.account_id}; API key in ${accountFile}`);
  say();
  const ids: { label: string; interactionId: string }[] = [];
  for (const sample of sampleCalls) {
    const item = { ...sample, external_interaction_id: `${sample.external_interaction_id}-${run}` };
    const answer = await call("POST", `${base}/ingress/interactions`, auth, item);
    say(
      `POST /ingress/interactions ${item.external_interaction_id} → ${answer.status} ${answer.body.message ?? ""}`,
    );
    ids.push({
      label: sample.external_interaction_id,
      interactionId: String(answer.body.data?.["interaction_id"]),
    });
  }
  say();
  for (const { label, interactionId } of ids) {
    const analysisId = await waitForAnalysis(call, base, auth, interactionId);
    if (!analysisId) {
      say(`${label}: not analysed yet`);
      continue;
    }
    const detail = (await call("GET", `${base}/analyses/${analysisId}`, auth)).body.data ?? {};
    say(
      `${label}: score ${detail["final_score"]}/${detail["max_score"]}, criticality-adjusted ${detail["criticality_adjusted_score"]} (${detail["profile_name"]})`,
    );
    for (const category of (detail["categories"] ?? []) as {
      sub_categories: { kpis: Record<string, unknown>[] }[];
    }[]) {
      for (const kpi of category.sub_categories.flatMap((s) => s.kpis)) {
        say(
          `  ${String(kpi["ai_response"]).padEnd(9)} ${String(kpi["kpi_name"]).padEnd(24)} ${kpi["ai_justification"]}`,
        );
      }
    }
    say();
  }
  const signIn = `${running.url}/?account=${account.account_id}&email=${encodeURIComponent(account.dashboard_email ?? "")}`;
  say(`Dashboard: ${signIn}`);
  say(
    `  sign in as ${account.dashboard_email} with password ${account.dashboard_password} (kept in ${accountFile})`,
  );
  say();
  say("Try it yourself:");
  say(
    `  curl -s ${running.url}${base}/ingress/interactions/${ids[0]?.interactionId} -H 'X-API-Key: ${account.api_key}'`,
  );
  say(`  API reference: ${running.url}/api/v1/openapi.json — stop with Ctrl+C`);
  await waitForSignal();
  await running.stop();
  return 0;
}

type DemoCall = (
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) => Promise<{ status: number; body: { data?: Record<string, unknown>; message?: string } }>;

/** An admin user for the dashboard, with a generated password (the demo prints it). */
async function createDemoAdmin(
  call: DemoCall,
  base: string,
  auth: Record<string, string>,
): Promise<{ dashboard_email: string; dashboard_password: string }> {
  const password = randomBytes(12).toString("base64url");
  const created = await call("POST", `${base}/users`, auth, {
    email: demoAdminEmail,
    password,
    role: "admin",
    display_name: "Demo admin",
  });
  if (created.status === 409) {
    // A data dir from an earlier run whose password was not kept: give the user a new one.
    const users = (await call("GET", `${base}/users`, auth)).body.data?.["users"] as
      | { user_id: string; email: string }[]
      | undefined;
    const user = users?.find((u) => u.email === demoAdminEmail);
    if (user) await call("PATCH", `${base}/users/${user.user_id}`, auth, { password });
  } else if (created.status !== 201) {
    throw new Error(`Could not create the demo's dashboard user: ${created.body.message}`);
  }
  return { dashboard_email: demoAdminEmail, dashboard_password: password };
}

async function waitForAnalysis(
  call: (
    method: string,
    path: string,
    headers: Record<string, string>,
  ) => Promise<{ body: { data?: Record<string, unknown> } }>,
  base: string,
  auth: Record<string, string>,
  interactionId: string,
): Promise<string | null> {
  for (let i = 0; i < 100; i++) {
    const detail = (await call("GET", `${base}/ingress/interactions/${interactionId}`, auth)).body.data ?? {};
    const analyses = (detail["analyses"] ?? []) as { analysis_id: string; status: string }[];
    if (detail["status"] === "completed" || detail["status"] === "failed")
      return analyses[0]?.analysis_id ?? null;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}
