import { AppError } from "../core/errors.ts";
import { type HttpEngineSettings, postToEngine, RequestGate, realWaiter, type Waiter } from "./httpEngine.ts";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** Any server that speaks OpenAI's `POST /v1/chat/completions` (OpenAI, vLLM, llama.cpp, Ollama, hosted). */
export class ChatClient {
  readonly label: string;
  readonly #settings: HttpEngineSettings;
  readonly #gate: RequestGate;
  readonly #waiter: Waiter;

  constructor(settings: HttpEngineSettings, waiter: Waiter = realWaiter) {
    this.#settings = settings;
    this.#waiter = waiter;
    this.#gate = new RequestGate(settings.requestsPerMinute, waiter);
    this.label = `${settings.model} at ${new URL(settings.baseUrl).host}`;
  }

  /** Asks for a JSON object answer and returns the assistant's text (which should be that JSON). */
  async completeJson(messages: readonly ChatMessage[], what: string): Promise<string> {
    const response = await postToEngine(
      this.#settings,
      "/chat/completions",
      () => ({
        payload: JSON.stringify({
          model: this.#settings.model,
          messages,
          temperature: 0,
          response_format: { type: "json_object" },
        }),
        contentType: "application/json",
      }),
      { what: `${what} by ${this.label}`, gate: this.#gate, waiter: this.#waiter },
    );
    const body = response.body as {
      choices?: { message?: { content?: unknown }; finish_reason?: unknown }[];
    };
    const choice = Array.isArray(body?.choices) ? body.choices[0] : undefined;
    const content = choice?.message?.content;
    if (typeof content !== "string" || content.trim() === "") {
      throw new AppError(
        "ENGINE_FAILED",
        `${this.label} answered without a message (finish_reason ${String(choice?.finish_reason ?? "none")})`,
      );
    }
    return content;
  }
}
