import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { parseFetchAllowList } from "../net/allowList.ts";
import {
  sendWebhook,
  signWebhookBody,
  verifyWebhookSignature,
  type WebhookRequest,
} from "./webhookSender.ts";

interface Received {
  method: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
}

const servers: Array<ReturnType<typeof createServer>> = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

/** A real receiver on 127.0.0.1 that records each delivery and answers as told. */
async function startReceiver(
  answer: (response: ServerResponse) => void,
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        headers: request.headers,
        rawBody: Buffer.concat(chunks).toString(),
      });
      answer(response);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/cqa`, received };
}

const secret = "whsec_0123456789abcdef0123456789abcdef";
const body = JSON.stringify({
  event: "INTERACTION_ANALYSIS_COMPLETED",
  deliveryId: "d-1",
  timestamp: "2026-03-01T10:00:00.000Z",
  accountId: "acc-1",
  data: { analysisId: "an-1", status: "COMPLETED", finalScore: 87.5, note: "naïve café" },
});

function webhook(url: string, overrides: Partial<WebhookRequest> = {}): WebhookRequest {
  return {
    url,
    body,
    secret,
    deliveryId: "d-1",
    event: "INTERACTION_ANALYSIS_COMPLETED",
    sentAt: new Date("2026-03-01T10:00:00.000Z"),
    allow: parseFetchAllowList("127.0.0.1/8"),
    ...overrides,
  };
}

test("a 2xx delivers a POST whose signature verifies over the exact raw body", async () => {
  const receiver = await startReceiver((response) => response.writeHead(204).end());
  const outcome = await sendWebhook(webhook(receiver.url));
  assert.deepEqual(
    { ...outcome, durationMs: 0 },
    { result: "delivered", statusCode: 204, error: null, durationMs: 0 },
  );
  assert.ok(outcome.durationMs >= 0);

  const [delivery] = receiver.received;
  assert.ok(delivery);
  assert.equal(delivery.method, "POST");
  assert.equal(delivery.rawBody, body);
  assert.equal(delivery.headers["content-type"], "application/json");
  assert.equal(delivery.headers["x-cqa-timestamp"], "2026-03-01T10:00:00.000Z");
  assert.equal(delivery.headers["x-cqa-event"], "INTERACTION_ANALYSIS_COMPLETED");
  assert.equal(delivery.headers["x-cqa-delivery-id"], "d-1");
  assert.equal(delivery.headers["user-agent"], "cqa-webhooks/1");
  const signature = delivery.headers["x-cqa-signature"];
  assert.equal(typeof signature, "string");
  assert.match(String(signature), /^sha256=[0-9a-f]{64}$/);
  assert.equal(verifyWebhookSignature(secret, delivery.rawBody, String(signature)), true);
  assert.equal(verifyWebhookSignature("another secret", delivery.rawBody, String(signature)), false);
  assert.equal(
    verifyWebhookSignature(secret, delivery.rawBody.replace("87.5", "97.5"), String(signature)),
    false,
  );
  assert.equal(verifyWebhookSignature(secret, delivery.rawBody, undefined), false);
});

test("the signature is the documented HMAC-SHA256 a receiver can recompute", () => {
  // Reference value computed independently: printf '%s' '{"a":1}' | openssl dgst -sha256 -hmac key
  assert.equal(
    signWebhookBody("key", '{"a":1}'),
    "sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342",
  );
});

test("500 and 429 answers ask for a retry and say what the callback answered", async () => {
  for (const [status, reason] of [
    [500, "callback answered 500 Internal Server Error"],
    [503, "callback answered 503 Service Unavailable"],
    [429, "callback answered 429 Too Many Requests"],
  ] as const) {
    const receiver = await startReceiver((response) => response.writeHead(status).end("busy"));
    const outcome = await sendWebhook(webhook(receiver.url));
    assert.equal(outcome.result, "retry", String(status));
    assert.equal(outcome.statusCode, status);
    assert.equal(outcome.error, reason);
  }
});

test("a callback that never answers is retried after the timeout", async () => {
  const receiver = await startReceiver(() => {});
  const outcome = await sendWebhook(webhook(receiver.url, { timeoutMs: 300 }));
  assert.equal(outcome.result, "retry");
  assert.equal(outcome.statusCode, null);
  assert.equal(outcome.error, "no answer within 0.3 s");
  assert.ok(outcome.durationMs >= 290 && outcome.durationMs < 2000, String(outcome.durationMs));
});

test("a callback nobody listens on is retried with the connection error", async () => {
  const receiver = await startReceiver(() => {});
  const server = servers.at(-1)!;
  await new Promise((resolve) => server.close(resolve));
  const outcome = await sendWebhook(webhook(receiver.url));
  assert.equal(outcome.result, "retry");
  assert.match(outcome.error ?? "", /^could not reach the callback: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
});

test("400 and 301 answers are final failures, and the redirect is not followed", async () => {
  const rejecting = await startReceiver((response) => response.writeHead(400).end("bad"));
  const rejected = await sendWebhook(webhook(rejecting.url));
  assert.deepEqual(
    [rejected.result, rejected.statusCode, rejected.error],
    ["failed", 400, "callback answered 400 Bad Request"],
  );

  const elsewhere = await startReceiver((response) => response.writeHead(204).end());
  const moving = await startReceiver((response) =>
    response.writeHead(301, { location: elsewhere.url }).end(),
  );
  const moved = await sendWebhook(webhook(moving.url));
  assert.equal(moved.result, "failed");
  assert.equal(moved.statusCode, 301);
  assert.equal(
    moved.error,
    "callback answered 301 Moved Permanently; redirects are not followed, set callback_url to the final address",
  );
  assert.equal(elsewhere.received.length, 0);
});

test("a loopback callback is refused without CQA_FETCH_ALLOW and nothing is sent", async () => {
  const receiver = await startReceiver((response) => response.writeHead(204).end());
  const outcome = await sendWebhook(webhook(receiver.url, { allow: parseFetchAllowList(undefined) }));
  assert.equal(outcome.result, "failed");
  assert.equal(outcome.statusCode, null);
  assert.equal(
    outcome.error,
    `Refused to fetch ${receiver.url}: 127.0.0.1 is a private/loopback address. If this host is yours, allow it with CQA_FETCH_ALLOW (e.g. CQA_FETCH_ALLOW=127.0.0.1/8)`,
  );
  assert.equal(receiver.received.length, 0);
});
