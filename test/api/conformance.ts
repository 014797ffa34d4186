// Shared pieces of the Standard API conformance suite: the published example requests (with their
// example hosts replaced by local servers), a small WAV recording, and envelope assertions.
import assert from "node:assert/strict";
import type { CreatedAccount, RequestOptions, TestCqa, TestResponse } from "../support/testCqa.ts";

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isoInstantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The published CHAT transcript_text example, verbatim. */
export const publishedChatText =
  "Agent: Hello! How can I help you today?\nCustomer: I need to reset my password.\nAgent: Sure, I can help with that. Let me send you a reset link.";

/** The published VOICE example; `audioUrl` and `callbackUrl` stand in for the example hosts. */
export function voiceExample(audioUrl: string, callbackUrl: string): Record<string, unknown> {
  return {
    external_interaction_id: "call-2026-04-01-001",
    channel_type: "VOICE",
    source: "my-pbx",
    language: "en",
    interaction_start_time: "2026-04-01T10:30:00Z",
    duration_seconds: 300,
    audio_format: "WAV",
    audio_url: audioUrl,
    pii_redacted: false,
    callback_url: callbackUrl,
    metadata: { agent_id: "agent-42", campaign: "retention-q2", disposition: "RESOLVED" },
  };
}

/** The published CHAT-with-URL example; `transcriptUrl` stands in for the example host. */
export function chatUrlExample(transcriptUrl: string): Record<string, unknown> {
  return {
    external_interaction_id: "chat-2026-04-01-001",
    channel_type: "CHAT",
    source: "whatsapp",
    language: "en",
    interaction_start_time: "2026-04-01T10:30:00Z",
    transcript_url: transcriptUrl,
  };
}

/** The published CHAT-with-transcript_text example, verbatim. */
export const chatTextExample: Record<string, unknown> = {
  external_interaction_id: "chat-2026-09-03-001",
  channel_type: "CHAT",
  source: "web-chat",
  language: "en",
  transcript_text: publishedChatText,
};

/** A valid 16-bit PCM mono WAV file of `seconds` of silence. */
export function wavRecording(seconds = 1, sampleRate = 8000): Buffer {
  const dataBytes = seconds * sampleRate * 2;
  const wav = Buffer.alloc(44 + dataBytes);
  wav.write("RIFF", 0, "ascii");
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.write("WAVE", 8, "ascii");
  wav.write("fmt ", 12, "ascii");
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(sampleRate, 24);
  wav.writeUInt32LE(sampleRate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36, "ascii");
  wav.writeUInt32LE(dataBytes, 40);
  return wav;
}

/** Calls one account's Standard API with its key: `call("POST", "/ingress/interactions", { body })`. */
export type AccountApi = (method: string, path: string, options?: RequestOptions) => Promise<TestResponse>;

export function accountApi(cqa: TestCqa, account: CreatedAccount): AccountApi {
  return (method, path, options = {}) =>
    cqa.request(method, `/api/v1/accounts/${account.accountId}${path}`, {
      apiKey: account.apiKey,
      ...options,
    });
}

/**
 * Asserts the published error envelope `{status, request_id, message, error: {code}}` with the
 * status the code maps to, and the message when one is given (exact text or a pattern).
 */
export function assertApiError(
  response: TestResponse,
  status: number,
  code: string,
  message?: string | RegExp,
): void {
  assert.equal(
    response.status,
    status,
    `expected ${status} ${code}, got ${response.status}: ${response.text}`,
  );
  assert.equal(response.headers.get("content-type")?.startsWith("application/json"), true);
  const body = response.body;
  assert.ok(body && typeof body === "object", `the error answer is JSON: ${response.text}`);
  assert.deepEqual(Object.keys(body).sort(), ["error", "message", "request_id", "status"]);
  assert.equal(body.status, status);
  assert.equal(typeof body.request_id, "string");
  assert.ok(body.request_id.length > 0);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.message, "string");
  if (typeof message === "string") assert.equal(body.message, message);
  else if (message) assert.match(body.message, message);
}

/** Asserts a successful envelope and returns its `data`. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers
export function dataOf(response: TestResponse, status = 200): any {
  assert.equal(response.status, status, response.text);
  assert.equal(response.body.status, status);
  assert.equal(typeof response.body.request_id, "string");
  return response.body.data;
}
