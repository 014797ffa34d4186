import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import type { ReceivedRequest } from "../support/httpPeers.ts";
import type { CreatedAccount, TestCqa, TestResponse } from "../support/testCqa.ts";

/** A JSON value read from an answer or a webhook body: tests navigate it freely. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
export type Json = any;

/** Calls one account's API with its admin key (or another key), paths relative to the account. */
export interface AccountApi {
  account: CreatedAccount;
  get(path: string, apiKey?: string): Promise<TestResponse>;
  post(path: string, body?: unknown, apiKey?: string): Promise<TestResponse>;
  put(path: string, body: unknown, apiKey?: string): Promise<TestResponse>;
  patch(path: string, body: unknown, apiKey?: string): Promise<TestResponse>;
  delete(path: string, apiKey?: string): Promise<TestResponse>;
}

export function accountApi(cqa: TestCqa, account: CreatedAccount): AccountApi {
  const base = `/api/v1/accounts/${account.accountId}`;
  // A credential is an API key (cqa_…) or a signed-in user's session token.
  const call = (method: string, path: string, body: unknown, credential: string | undefined) => {
    const key = credential ?? account.apiKey;
    return cqa.request(method, `${base}${path}`, {
      ...(key.startsWith("cqa_") ? { apiKey: key } : { bearer: key }),
      ...(body === undefined ? {} : { body }),
    });
  };
  return {
    account,
    get: (path, apiKey) => call("GET", path, undefined, apiKey),
    post: (path, body, apiKey) => call("POST", path, body ?? {}, apiKey),
    put: (path, body, apiKey) => call("PUT", path, body, apiKey),
    patch: (path, body, apiKey) => call("PATCH", path, body, apiKey),
    delete: (path, apiKey) => call("DELETE", path, undefined, apiKey),
  };
}

/** Ingests one interaction and asserts it was queued; returns its interaction id. */
export async function ingest(api: AccountApi, item: Record<string, unknown>): Promise<string> {
  const answer = await api.post("/ingress/interactions", { channel_type: "VOICE", ...item });
  assert.equal(answer.status, 201, answer.text);
  return answer.body.data.interaction_id;
}

/** The interaction detail (by uuid or external id). */
export async function interaction(api: AccountApi, identifier: string): Promise<Record<string, Json>> {
  const answer = await api.get(`/ingress/interactions/${encodeURIComponent(identifier)}`);
  assert.equal(answer.status, 200, answer.text);
  return answer.body.data;
}

/** Sends every webhook due now (once each) without running Json job; returns how many were attempted. */
export async function sendDueWebhooks(cqa: TestCqa): Promise<number> {
  let total = 0;
  for (let round = 0; round < 50; round++) {
    const sent = (await cqa.running.dispatcher?.deliverDue()) ?? 0;
    if (sent === 0) return total;
    total += sent;
  }
  throw new Error("sendDueWebhooks: messages kept becoming due");
}

/** The `X-CQA-Signature` a receiver expects, computed here independently of cqa's own signer. */
export function expectedSignature(secret: string, rawBody: string): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody, "utf8").digest("hex")}`;
}

const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

/** Asserts a received webhook is signed with `secret` over its exact raw body and stamped ISO-8601. */
export function assertSignedWebhook(request: ReceivedRequest, secret: string): Record<string, Json> {
  assert.equal(request.method, "POST");
  assert.match(String(request.headers["content-type"]), /^application\/json/);
  assert.equal(request.headers["x-cqa-signature"], expectedSignature(secret, request.body));
  const stamp = String(request.headers["x-cqa-timestamp"]);
  assert.match(stamp, isoInstant, `X-CQA-Timestamp '${stamp}' is not ISO-8601`);
  assert.ok(!Number.isNaN(Date.parse(stamp)));
  return JSON.parse(request.body);
}

/** Realistic transcripts, in the plain "Speaker: text" form contact centres export. */
export const transcripts = {
  /** Greeting, verification, empathy, a hold done right, and a proper closing. */
  goodCall: [
    "Agent: Thank you for calling Northwind Energy, my name is Priya, how can I help you today?",
    "Customer: Hi, my last bill is almost twice what I normally pay and I don't understand why.",
    "Agent: I'm sorry to hear that, I can imagine that was a shock. Before I look at the account, can you confirm your date of birth and postcode please?",
    "Customer: Sure, it's the 4th of May 1981, and the postcode is LS6 2AB.",
    "Agent: Thank you. Let me put you on hold for a moment while I check the meter readings.",
    "Customer: Okay.",
    "Agent: Thank you for holding. The last reading was estimated, so I've entered the actual reading you sent in March and the bill drops back to 64 pounds.",
    "Customer: Oh that's a relief, thank you.",
    "Agent: You're welcome. Is there anything else I can help you with today?",
    "Customer: No, that's everything.",
    "Agent: Thanks for calling, have a great day. Goodbye.",
  ].join("\n"),
  /** A decent call in which the agent loses patience and swears: a fatal KPI fails. */
  profaneCall: [
    "Agent: Good morning, you're through to Northwind Energy, my name is Tom, how can I help you?",
    "Customer: I've called four times about this meter and nobody has fixed it.",
    "Agent: I understand. Can you confirm your date of birth for me?",
    "Customer: 12 March 1975. Just fix it.",
    "Agent: Look, this meter shit is not my problem, the engineers book those visits.",
    "Customer: That's unacceptable.",
    "Agent: I'll raise a ticket for an engineer visit. Is there anything else?",
    "Customer: No.",
    "Agent: Have a good day.",
  ].join("\n"),
  /** A short chat without hold, so hold etiquette is not applicable. */
  shortChat: [
    "Agent: Hello, thanks for contacting Northwind support, how can I help you?",
    "Customer: I want to change the email address on my account.",
    "Agent: Of course. Can you confirm your full name and the postcode on the account?",
    "Customer: Dana Reyes, M14 5TP.",
    "Agent: Thank you, I've updated it. Is there anything else I can help you with?",
    "Customer: No thanks.",
    "Agent: Have a nice day!",
  ].join("\n"),
};
