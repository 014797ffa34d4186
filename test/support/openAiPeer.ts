// A local HTTP server that speaks OpenAI's published audio-transcription and chat-completion API
// shapes (https://platform.openai.com/docs/api-reference): multipart `POST /v1/audio/transcriptions`
// answering `verbose_json`, JSON `POST /v1/chat/completions`, OpenAI-style error bodies, 429 with
// Retry-After. Tests script its answers; it records every request as the real server would see it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface OpenAiRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** Multipart fields (transcriptions): text fields as strings, the file as its bytes and type. */
  fields: Map<string, string>;
  file: { name: string; type: string; bytes: Buffer } | null;
  /** JSON body (chat completions). */
  json: unknown;
}

/** What the peer does with one request: answer, or hang (to test timeouts). */
export type OpenAiAnswer =
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { hang: true };

export interface OpenAiPeer {
  url: string;
  requests: OpenAiRequest[];
  /** Answers for the next requests, in order; when empty, `fallback` answers. */
  script: OpenAiAnswer[];
  close(): Promise<void>;
}

/** The published `verbose_json` answer for a transcription (fields as OpenAI returns them). */
export function verboseJson(
  segments: { start: number; end: number; text: string }[],
  language = "english",
): unknown {
  return {
    task: "transcribe",
    language,
    duration: segments.at(-1)?.end ?? 0,
    text: segments.map((s) => s.text).join(""),
    segments: segments.map((s, id) => ({
      id,
      seek: 0,
      start: s.start,
      end: s.end,
      text: s.text,
      tokens: [50364, 2425, 50414],
      temperature: 0,
      avg_logprob: -0.21,
      compression_ratio: 1.3,
      no_speech_prob: 0.01,
    })),
  };
}

/** The published chat-completion answer carrying `content`. */
export function chatCompletion(content: string, model = "gpt-4o-mini"): unknown {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    created: 1_760_000_000,
    model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content, refusal: null },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: { prompt_tokens: 120, completion_tokens: 40, total_tokens: 160 },
  };
}

/** OpenAI's error body. */
export function openAiError(message: string, type: string, code: string | null = null): unknown {
  return { error: { message, type, param: null, code } };
}

export async function startOpenAiPeer(
  fallback: (request: OpenAiRequest) => OpenAiAnswer,
): Promise<OpenAiPeer> {
  const requests: OpenAiRequest[] = [];
  const script: OpenAiAnswer[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const request: OpenAiRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        fields: new Map(),
        file: null,
        json: null,
      };
      const type = String(req.headers["content-type"] ?? "");
      if (type.startsWith("multipart/form-data")) {
        const form = await new Response(body, { headers: { "content-type": type } }).formData();
        for (const [name, value] of form) {
          if (typeof value === "string") request.fields.set(name, value);
          else
            request.file = {
              name: value.name,
              type: value.type,
              bytes: Buffer.from(await value.arrayBuffer()),
            };
        }
      } else if (type.startsWith("application/json")) {
        request.json = JSON.parse(body.toString("utf8"));
      }
      requests.push(request);
      const answer = script.shift() ?? fallback(request);
      if ("hang" in answer) {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
