import { createHmac } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { describeError, isAppError } from "../core/errors.ts";
import type { FetchAllowList } from "../net/allowList.ts";
import { fetchFailureKind, safeFetchStream } from "../net/safeFetch.ts";
import { timingSafeEqualStrings } from "../security/tokens.ts";

/** One webhook to send: the exact body, who it goes to and how to sign it. */
export interface WebhookRequest {
  url: string;
  /** The JSON body exactly as signed and sent. */
  body: string;
  /** The signing secret of the account's API key. */
  secret: string;
  deliveryId: string;
  event: string;
  sentAt: Date;
  allow: FetchAllowList;
  /** Default 10 000, as the Standard API promises receivers. */
  timeoutMs?: number;
}

/** What became of one attempt: `retry` asks for another later, `failed` is final. */
export interface WebhookOutcome {
  result: "delivered" | "retry" | "failed";
  statusCode: number | null;
  /** A one-line reason an operator can act on; null when delivered. */
  error: string | null;
  durationMs: number;
}

const defaultTimeoutMs = 10_000;

/** The `X-CQA-Signature` value: `sha256=` and the hex HMAC-SHA256 of the raw body. */
export function signWebhookBody(secret: string, rawBody: string): string {
  return `sha256=${createHmac("sha256", secret).update(rawBody, "utf8").digest("hex")}`;
}

/** Whether a received `X-CQA-Signature` header was made with `secret` over exactly `rawBody`. */
export function verifyWebhookSignature(
  secret: string,
  rawBody: string,
  signatureHeader: string | undefined,
): boolean {
  if (signatureHeader === undefined) return false;
  return timingSafeEqualStrings(signWebhookBody(secret, rawBody), signatureHeader.trim());
}

/** Makes one delivery attempt and classifies it; delivery problems are outcomes, never exceptions. */
export async function sendWebhook(request: WebhookRequest): Promise<WebhookOutcome> {
  const timeoutMs = request.timeoutMs ?? defaultTimeoutMs;
  const started = performance.now();
  const outcome = (result: WebhookOutcome["result"], statusCode: number | null, error: string | null) => ({
    result,
    statusCode,
    error,
    durationMs: Math.round(performance.now() - started),
  });

  try {
    const response = await safeFetchStream(request.url, {
      allow: request.allow,
      method: "POST",
      body: request.body,
      timeoutMs,
      // A callback URL that redirects is a misconfiguration to report, not to follow with a signed body.
      maxRedirects: 0,
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "cqa-webhooks/1",
        "X-CQA-Signature": signWebhookBody(request.secret, request.body),
        "X-CQA-Timestamp": request.sentAt.toISOString(),
        "X-CQA-Event": request.event,
        "X-CQA-Delivery-Id": request.deliveryId,
      },
    });
    // Only the status matters: drain the answer so the connection can be reused. Its errors (a
    // receiver hanging up after answering) change nothing about the outcome, so they are dropped.
    response.body.on("error", () => {});
    response.body.resume();
    return classifyStatus(response.status, outcome);
  } catch (error) {
    if (!isAppError(error)) throw error;
    if (error.code === "FETCH_REFUSED") return outcome("failed", null, error.message);
    if (error.code !== "FETCH_FAILED") throw error;
    const kind = fetchFailureKind(error);
    const reason =
      kind === "timeout"
        ? `no answer within ${Number((timeoutMs / 1000).toFixed(3))} s`
        : kind === "network"
          ? `could not reach the callback: ${describeError(error.cause ?? error)}`
          : error.message;
    return outcome(error.retryable ? "retry" : "failed", null, reason);
  }
}

function classifyStatus(
  status: number,
  outcome: (
    result: WebhookOutcome["result"],
    statusCode: number | null,
    error: string | null,
  ) => WebhookOutcome,
): WebhookOutcome {
  if (status >= 200 && status < 300) return outcome("delivered", status, null);
  const answered = `callback answered ${status} ${STATUS_CODES[status] ?? ""}`.trimEnd();
  if (status === 429 || status >= 500) return outcome("retry", status, answered);
  if (status >= 300 && status < 400) {
    return outcome(
      "failed",
      status,
      `${answered}; redirects are not followed, set callback_url to the final address`,
    );
  }
  return outcome("failed", status, answered);
}
