import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  chatCompletion,
  type OpenAiPeer,
  openAiError,
  startOpenAiPeer,
  verboseJson,
} from "../../test/support/openAiPeer.ts";
import type { AppError } from "../core/errors.ts";
import { toPcm16, wavHeader16 } from "../media/wavWriter.ts";
import { ChatClient } from "./chatClient.ts";
import type { HttpEngineSettings, Waiter } from "./httpEngine.ts";
import { OpenAiTranscriber } from "./openAiTranscriber.ts";

/** Records the waits asked for instead of sleeping; its clock moves by what was waited. */
function recordingWaiter(): Waiter & { waits: number[] } {
  let now = 1_000_000;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  };
}

describe("OpenAI-compatible transcription and chat, against a local server speaking the published API", () => {
  let peer: OpenAiPeer;
  const dir = mkdtempSync(join(tmpdir(), "cqa-openai-"));
  const channel = join(dir, "channel-0.wav");
  const samples = Float32Array.from(
    { length: 16000 * 2 },
    (_, i) => 0.3 * Math.sin((2 * Math.PI * 300 * i) / 16000),
  );
  writeFileSync(channel, Buffer.concat([wavHeader16(16000, 1, samples.length * 2), toPcm16([samples])]));
  const input = { path: channel, seconds: 2, role: "agent" as const };

  before(async () => {
    peer = await startOpenAiPeer(() => ({
      status: 200,
      body: verboseJson([
        { start: 0, end: 1.2, text: " Thank you for calling Northwind." },
        { start: 1.3, end: 2, text: " How can I help?" },
      ]),
    }));
  });
  after(async () => {
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const settings = (overrides: Partial<HttpEngineSettings> = {}): HttpEngineSettings => ({
    baseUrl: peer.url,
    apiKey: "sk-test",
    model: "whisper-1",
    timeoutMs: 5_000,
    maxAttempts: 3,
    requestsPerMinute: null,
    ...overrides,
  });

  test("sends the channel as a 16 kHz WAV with model, verbose_json, segment timestamps and the language; reads the segments", async () => {
    peer.requests.length = 0;
    const segments = await new OpenAiTranscriber(settings()).transcribe(input, { language: "en-GB" });
    assert.deepEqual(
      segments.map((s) => [s.start, s.end, s.text]),
      [
        [0, 1.2, "Thank you for calling Northwind."],
        [1.3, 2, "How can I help?"],
      ],
    );
    const request = peer.requests[0]!;
    assert.equal(request.path, "/v1/audio/transcriptions");
    assert.equal(request.headers.authorization, "Bearer sk-test");
    assert.equal(request.fields.get("model"), "whisper-1");
    assert.equal(request.fields.get("response_format"), "verbose_json");
    assert.equal(request.fields.get("timestamp_granularities[]"), "segment");
    assert.equal(request.fields.get("language"), "en");
    assert.equal(request.file?.type, "audio/wav");
    assert.equal(request.file?.bytes.toString("latin1", 0, 4), "RIFF");
    assert.equal(request.file?.bytes.readUInt32LE(24), 16000);
    assert.equal(request.file?.bytes.length, 44 + samples.length * 2);
  });

  test("429 with Retry-After: waits what the server asked, then succeeds", async () => {
    peer.requests.length = 0;
    peer.script.push({
      status: 429,
      body: openAiError("Rate limit reached for whisper-1", "requests", "rate_limit_exceeded"),
      headers: { "retry-after": "7" },
    });
    const waiter = recordingWaiter();
    const segments = await new OpenAiTranscriber(settings(), waiter).transcribe(input, { language: null });
    assert.equal(segments.length, 2);
    assert.deepEqual(waiter.waits, [7000]);
    assert.equal(peer.requests.length, 2);
    assert.equal(peer.requests[1]!.fields.has("language"), false, "no language hint when none is known");
  });

  test("429 every time: fails after the attempts, retryable, with the server's message; a long Retry-After goes back to the queue", async () => {
    for (let i = 0; i < 3; i++)
      peer.script.push({ status: 429, body: openAiError("Rate limit reached", "requests") });
    const waiter = recordingWaiter();
    await assert.rejects(
      new OpenAiTranscriber(settings(), waiter).transcribe(input, { language: null }),
      (error: AppError) => {
        assert.equal(error.code, "ENGINE_FAILED");
        assert.equal(error.retryable, true);
        assert.match(
          error.message,
          /failed after 3 attempt\(s\): .*answered 429: Rate limit reached; it will be tried again later/,
        );
        return true;
      },
    );
    assert.deepEqual(waiter.waits, [1000, 2000], "back-off without Retry-After");

    peer.script.push({
      status: 429,
      body: openAiError("Quota", "requests"),
      headers: { "retry-after": "600" },
    });
    await assert.rejects(
      new OpenAiTranscriber(settings(), recordingWaiter()).transcribe(input, { language: null }),
      (error: AppError) => {
        assert.equal(error.retryAfterSeconds, 600, "the job is retried when the server said");
        return true;
      },
    );
  });

  test("a 5xx is retried; a 401 is not, and says to check the key", async () => {
    peer.script.push({ status: 503, body: openAiError("The server is overloaded", "server_error") });
    assert.equal(
      (await new OpenAiTranscriber(settings(), recordingWaiter()).transcribe(input, { language: null }))
        .length,
      2,
    );
    peer.requests.length = 0;
    peer.script.push({
      status: 401,
      body: openAiError("Incorrect API key provided: sk-test.", "invalid_request_error", "invalid_api_key"),
    });
    await assert.rejects(
      new OpenAiTranscriber(settings(), recordingWaiter()).transcribe(input, { language: null }),
      (error: AppError) => {
        assert.equal(error.retryable, false);
        assert.match(
          error.message,
          /was refused: .*answered 401: Incorrect API key provided: sk-test\. \(check the API key setting\)/,
        );
        return true;
      },
    );
    assert.equal(peer.requests.length, 1);
  });

  test("a server that does not answer times out, is retried, and fails saying so", async () => {
    peer.requests.length = 0;
    peer.script.push({ hang: true }, { hang: true });
    const waiter = recordingWaiter();
    await assert.rejects(
      new OpenAiTranscriber(settings({ timeoutMs: 300, maxAttempts: 2 }), waiter).transcribe(input, {
        language: null,
      }),
      /failed after 2 attempt\(s\): .* did not answer within 0 s/,
    );
    assert.equal(peer.requests.length, 2);
  });

  test("the rate limit spaces requests: the third in a minute waits for the first to leave the window", async () => {
    const waiter = recordingWaiter();
    const engine = new OpenAiTranscriber(settings({ requestsPerMinute: 2 }), waiter);
    for (let i = 0; i < 3; i++) await engine.transcribe(input, { language: null });
    assert.equal(waiter.waits.length, 1);
    assert.ok(waiter.waits[0]! > 59_000 && waiter.waits[0]! <= 60_001, `waited ${waiter.waits[0]} ms`);
  });

  test("a server that answers plain json without segments gives one untimed piece", async () => {
    peer.script.push({ status: 200, body: { text: "Hello there." } });
    const segments = await new OpenAiTranscriber(settings(), recordingWaiter()).transcribe(input, {
      language: null,
    });
    assert.deepEqual(segments, [{ start: 0, end: 2, text: "Hello there.", confidence: null }]);
  });

  test("chat completions: JSON mode, temperature 0, the assistant's content back; failures say why", async () => {
    peer.requests.length = 0;
    peer.script.push({ status: 200, body: chatCompletion('{"answer":"Yes"}') });
    const chat = new ChatClient({ ...settings(), model: "gpt-4o-mini" }, recordingWaiter());
    assert.equal(await chat.completeJson([{ role: "user", content: "Q" }], "KPI"), '{"answer":"Yes"}');
    const body = peer.requests[0]!.json as Record<string, unknown>;
    assert.equal(peer.requests[0]!.path, "/v1/chat/completions");
    assert.deepEqual(
      { model: body["model"], temperature: body["temperature"], format: body["response_format"] },
      {
        model: "gpt-4o-mini",
        temperature: 0,
        format: { type: "json_object" },
      },
    );
    peer.script.push({
      status: 200,
      body: { choices: [{ message: { content: "" }, finish_reason: "length" }] },
    });
    await assert.rejects(
      chat.completeJson([{ role: "user", content: "Q" }], "KPI"),
      /answered without a message \(finish_reason length\)/,
    );
  });
});
