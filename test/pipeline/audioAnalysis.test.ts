// The analysis engine end to end: recordings fetched from a local file server, decoded, measured,
// transcribed by real PocketSphinx (or a local server speaking the OpenAI API), redacted, and scored.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/core/clock.ts";
import { defaultPocketSphinx, probePocketSphinx } from "../../src/engines/pocketsphinx.ts";
import { toPcm16, wavHeader16 } from "../../src/media/wavWriter.ts";
import {
  audioLabels,
  fixtureProfile,
  fixtureRecording,
  type LabelledCall,
} from "../support/audioFixtures.ts";
import { type LocalServer, startFileServer, startWebhookReceiver } from "../support/httpPeers.ts";
import { chatCompletion, type OpenAiPeer, startOpenAiPeer, verboseJson } from "../support/openAiPeer.ts";
import { backends, startTestCqa, type TestCqa } from "../support/testCqa.ts";
import { type AccountApi, accountApi, ingest, interaction, type Json } from "./pipelineSupport.ts";

const labels = audioLabels();
const call = (name: string) => labels.calls.find((c) => c.name === name) as LabelledCall;
const sphinx = await probePocketSphinx(defaultPocketSphinx);
const offline = sphinx.available ? false : `PocketSphinx is not installed (${sphinx.reason})`;

/**
 * Agreement the offline engine must reach with the labels (docs/analysis.md explains the figures):
 * phrase spotting combined with the rough transcript, and the rough transcript alone.
 */
export const minSpottingAgreement = 0.85;
export const minTranscriptAgreement = 0.75;

function kpisOf(analysis: Json): Map<string, Json> {
  const kpis: Json[] = analysis.categories.flatMap((c: Json) =>
    c.sub_categories.flatMap((s: Json) => s.kpis),
  );
  return new Map(kpis.map((k) => [k.kpi_id, k]));
}

async function analysisOf(api: AccountApi, externalId: string): Promise<Json> {
  const detail = await interaction(api, externalId);
  assert.equal(detail.analyses.length, 1, JSON.stringify(detail));
  return (await api.get(`/analyses/${detail.analyses[0].analysis_id}`)).body.data;
}

function silentWav(seconds: number): Buffer {
  const samples = new Float32Array(Math.round(8000 * seconds));
  return Buffer.concat([wavHeader16(8000, 1, samples.length * 2), toPcm16([samples])]);
}

function served(files: Record<string, Buffer | string>, url: string) {
  return Object.fromEntries(Object.keys(files).map((path) => [path, `${url}${path}`]));
}

for (const backend of backends()) {
  describe(`recordings in the pipeline (${backend.name})`, () => {
    const clock = new ManualClock("2026-03-02T09:00:00Z");
    let cqa: TestCqa;
    let api: AccountApi;
    let files: LocalServer;
    const recordings: Record<string, Buffer | string> = {};
    before(async () => {
      cqa = await startTestCqa({ backend, clock });
      api = accountApi(cqa, await cqa.createAccount());
      // Measures only here: the engine runs once, in the suite below.
      assert.equal((await api.put("/analysis-settings", { transcriber: "none" })).status, 200);
      for (const c of labels.calls) recordings[`/${c.file}`] = fixtureRecording(c);
      const billing = fixtureRecording(call("billing-call"));
      const declared2gb = Buffer.from(billing.subarray(0, 8000));
      declared2gb.writeUInt32LE(2 * 1024 ** 3, 54);
      const corrupt = Buffer.from(billing.subarray(0, 8000));
      corrupt.writeUInt32LE(0, 24); // sample rate 0
      Object.assign(recordings, {
        "/broken/truncated.wav": billing.subarray(0, 200_000),
        "/broken/corrupt.wav": corrupt,
        "/broken/page.wav": "<!DOCTYPE html><html><body>Your session has expired</body></html>",
        "/broken/empty.wav": Buffer.alloc(0),
        "/broken/declared-2gb.wav": declared2gb,
        "/short.wav": silentWav(1),
        "/silence.wav": silentWav(10),
      });
      files = await startFileServer(recordings);
    });
    after(async () => {
      await files.close();
      await cqa.stop();
    });
    const urlOf = (path: string) => served({ [path]: "" }, files.url)[path]!;

    test("a stereo telephone recording shows its audio measures in the interaction detail", async () => {
      const billing = call("billing-call");
      await ingest(api, { external_interaction_id: "measured", audio_url: urlOf(`/${billing.file}`) });
      await cqa.drain();
      const detail = await interaction(api, "measured");
      assert.equal(detail.status, "completed");
      const m = detail.audio_measures;
      assert.deepEqual(m.format, {
        container: "wav",
        codec: "mulaw",
        sample_rate: 8000,
        channels: 2,
        bits_per_sample: 8,
        decoder: "in-process",
      });
      assert.deepEqual(m.channel_roles, ["agent", "customer"]);
      assert.ok(Math.abs(m.talk_seconds.agent - billing.expected.talkSeconds.agent!) < 1);
      assert.equal(m.overtalk_count, 1);
      assert.equal(m.holds.length, 1);
      assert.equal(m.holds[0].kind, "music");
      assert.ok(m.speech.agent.length > 3 && m.speech.agent.every((s: number[]) => s.length === 2));
      assert.match(
        detail.speech.notes.join(" "),
        /Not transcribed: transcription is turned off for this account/,
      );
    });

    test("each kind of broken recording fails with its own reason, and the pipeline keeps going", async () => {
      const broken = {
        truncated: /truncated: its header declares .* but the file ends .* short/,
        corrupt: /damaged: its header gives a sample rate of 0 Hz/,
        page: /not audio: it looks like an HTML page/,
        empty: /empty \(0 bytes\)/,
        "declared-2gb": /declares 2\.0 GB of audio, .*longer than the 4 h cqa analyses/,
      };
      for (const name of Object.keys(broken)) {
        await ingest(api, {
          external_interaction_id: `broken-${name}`,
          audio_url: urlOf(`/broken/${name}.wav`),
        });
      }
      await ingest(api, {
        external_interaction_id: "fine-after-broken",
        audio_url: urlOf(`/${call("mono-call").file}`),
      });
      await cqa.drain();
      for (const [name, reason] of Object.entries(broken)) {
        const detail = await interaction(api, `broken-${name}`);
        assert.equal(detail.status, "failed", name);
        assert.match(detail.failure_reason, reason, name);
      }
      const fine = await interaction(api, "fine-after-broken");
      assert.equal(fine.status, "completed");
      assert.equal(fine.audio_measures.format.channels, 1);
    });

    test("a supplied transcript is still scored when its recording cannot be decoded; the measures say why", async () => {
      await ingest(api, {
        external_interaction_id: "transcript-with-bad-audio",
        audio_url: urlOf("/broken/page.wav"),
        transcript_text:
          "Agent: Thank you for calling, how can I help you today?\nCustomer: Just checking my balance.",
      });
      await cqa.drain();
      const detail = await interaction(api, "transcript-with-bad-audio");
      assert.equal(detail.status, "completed");
      assert.equal(detail.audio_measures.reason, "not_audio");
      assert.equal(detail.analyses[0].status, "completed");
    });

    test("a recording too short, or with no speech, is not analysed and says why", async () => {
      await ingest(api, { external_interaction_id: "too-short", audio_url: urlOf("/short.wav") });
      await ingest(api, { external_interaction_id: "only-silence", audio_url: urlOf("/silence.wav") });
      await cqa.drain();
      const short = await interaction(api, "too-short");
      assert.equal(short.status, "completed");
      assert.deepEqual(short.analyses, []);
      assert.equal(short.routing.not_analysed_reason, "too_short");
      assert.equal(
        short.not_analysed_reason,
        "Not analysed: the recording lasts 1 s, too short to analyse (under 2 s).",
      );
      const silent = await interaction(api, "only-silence");
      assert.equal(silent.routing.not_analysed_reason, "no_speech");
      assert.match(silent.not_analysed_reason, /no speech was detected in the 10 s recording/);
    });

    test("readiness lists the analysis engines, and why one is missing, without making the process not ready", async () => {
      const ready = await cqa.request("GET", "/readyz");
      assert.equal(ready.status, 200);
      const checks = ready.body.data?.checks ?? ready.body.checks;
      assert.equal(checks["engine:audio measures"].ok, true);
      assert.equal(checks["engine:llm"].ok, true, "an optional engine missing is not a failure");
      assert.match(checks["engine:llm"].detail, /^unavailable: not configured: set CQA_LLM_URL/);
      const engines = (await api.get("/analysis-settings")).body.data.engines;
      assert.ok(engines.some((e: Json) => e.name === "pocketsphinx"));
    });

    test("a profile is checked without saving: every problem with its path, and warnings for this server", async () => {
      const kpi = (evaluator: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
        name: `K ${JSON.stringify(evaluator).length}`,
        question: "Q?",
        evaluator,
        ...extra,
      });
      const invalid = await api.post("/quality-profiles/validate", {
        name: "Checks",
        categories: [
          {
            name: "C",
            sub_categories: [
              {
                name: "S",
                kpis: [
                  kpi({ type: "audio_measure", measure: "dead_air_share", operator: "lt", value: 10 }),
                  kpi({ type: "audio_measure", measure: "quietness", operator: "lt", value: 5 }),
                  kpi({ type: "sentiment", speaker: "both", expect: "happy" }),
                  kpi({ type: "phrase_spotted", phrases: [], window: {} }),
                  kpi({ type: "llm" }),
                  kpi({
                    type: "audio_measure",
                    measure: "longest_silence_seconds",
                    operator: "between",
                    min: 30,
                  }),
                ],
              },
            ],
          },
        ],
      });
      assert.equal(invalid.status, 400);
      const problems: string[] =
        invalid.body.details?.problems ?? invalid.body.data?.problems ?? invalid.body.message.split("; ");
      const text = problems.join("\n");
      const at = (i: number) => `categories[0].sub_categories[0].kpis[${i}].evaluator`;
      assert.ok(
        text.includes(`${at(0)}.value must be between 0 and 1 for dead_air_share (a share: 0.1 = 10 %)`),
        text,
      );
      assert.ok(text.includes(`${at(1)}.measure must be one of duration_seconds,`), text);
      assert.ok(
        text.includes(`${at(1)}.min and max are required with "between"`) ||
          text.includes("max are required"),
        text,
      );
      assert.ok(text.includes(`${at(2)}.speaker must be "agent" or "customer"`), text);
      assert.ok(
        text.includes(`${at(2)}.expect must be "improves", "not_worse", "positive_end" or "not_negative"`),
        text,
      );
      assert.ok(text.includes(`${at(3)}.phrases must contain at least 1 item(s)`), text);
      assert.ok(text.includes(`${at(3)}.window must set first_seconds or last_seconds`), text);
      assert.ok(text.includes(`${at(4)}.prompt is required`), text);

      const valid = await api.post("/quality-profiles/validate", {
        name: "Checks",
        categories: [
          {
            name: "Call",
            sub_categories: [
              {
                name: "Opening",
                kpis: [
                  kpi({ type: "phrase_spotted", phrases: ["welcome to Northwind"] }),
                  kpi({ type: "llm", prompt: "Was the customer's problem solved?" }, { allow_na: true }),
                ],
              },
            ],
          },
        ],
      });
      assert.equal(valid.status, 200, valid.text);
      assert.equal(valid.body.data.kpi_count, 2);
      const warnings = valid.body.data.warnings.join("\n");
      assert.match(warnings, /Call › Opening › .*: chats and e-mails have no recording; allow N\/A/);
      assert.match(warnings, /no language model is configured on this server \(CQA_LLM_URL\)/);
      if (!offline)
        assert.match(
          warnings,
          /"welcome to Northwind" cannot be listened for in the audio \(the offline dictionary does not know "northwind"\)/,
        );
      assert.equal(
        (await api.get("/quality-profiles")).body.data.quality_profiles.length,
        1,
        "nothing was saved",
      );
    });

    test("analysis settings: the channel map swaps the parties; unknown values are refused with what is allowed", async () => {
      const own = accountApi(cqa, await cqa.createAccount());
      const saved = await own.put("/analysis-settings", {
        transcriber: "none",
        channel_map: { agent: 1, customer: 0 },
      });
      assert.equal(saved.status, 200);
      assert.deepEqual(saved.body.data.channel_map, { agent: 1, customer: 0 });
      assert.equal((await own.get("/analysis-settings")).body.data.redact_pii, true, "defaults fill in");
      await ingest(own, {
        external_interaction_id: "swapped",
        audio_url: urlOf(`/${call("billing-call").file}`),
      });
      await cqa.drain();
      const m = (await interaction(own, "swapped")).audio_measures;
      assert.deepEqual(m.channel_roles, ["customer", "agent"]);
      assert.ok(
        m.talk_seconds.agent < m.talk_seconds.customer,
        "the customer's channel is now taken as the agent's",
      );

      const bad = await own.put("/analysis-settings", {
        transcriber: "whisper",
        channel_map: { agent: 0, customer: 0 },
        integrations: { "00000000-0000-7000-8000-000000000000": { language: "English" } },
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /transcriber must be "auto", "none", "pocketsphinx" or "openai"/);
      assert.match(bad.body.message, /channel_map: agent and customer must be different channels/);
      assert.match(bad.body.message, /language must be a language code such as en, hi or en-IN/);
      const unknownIntegration = await own.put("/analysis-settings", {
        integrations: { "00000000-0000-7000-8000-000000000000": { transcriber: "none" } },
      });
      assert.equal(unknownIntegration.status, 400);
      assert.match(
        unknownIntegration.body.message,
        /no integration 00000000-0000-7000-8000-000000000000 in this account/,
      );
      const unavailable = await own.put("/analysis-settings", { transcriber: "openai" });
      assert.match(unavailable.body.data.warnings[0], /The openai engine is not available on this server/);
    });
  });
}

describe("audio-only calls analysed offline (PocketSphinx), checked against the fixture labels", {
  skip: offline,
}, () => {
  let cqa: TestCqa;
  let api: AccountApi;
  let files: LocalServer;
  const answers = new Map<string, Map<string, Json>>();
  before(async () => {
    cqa = await startTestCqa();
    api = accountApi(cqa, await cqa.createAccount());
    const saved = await api.put(
      `/quality-profiles/${api.account.starterProfileId}`,
      fixtureProfile(labels, { transcriptTwins: true }),
    );
    assert.equal(saved.status, 200, saved.text);
    const recordings = Object.fromEntries(labels.calls.map((c) => [`/${c.file}`, fixtureRecording(c)]));
    files = await startFileServer(recordings);
    for (const c of labels.calls)
      await ingest(api, { external_interaction_id: c.name, audio_url: `${files.url}/${c.file}` });
    await cqa.drain();
    for (const c of labels.calls) answers.set(c.name, kpisOf(await analysisOf(api, c.name)));
  });
  after(async () => {
    await files?.close();
    await cqa?.stop();
  });

  /** Share of (call, KPI) answers equal to the label, for the KPIs with this id suffix. */
  function agreement(suffix: string): { share: number; misses: string[] } {
    let agree = 0;
    const misses: string[] = [];
    for (const c of labels.calls) {
      for (const [kpi, expected] of Object.entries(c.kpis)) {
        const got = answers.get(c.name)!.get(`${kpi}${suffix}`)!;
        if (got.ai_response === expected) agree++;
        else
          misses.push(
            `${c.name}/${kpi}${suffix}: ${got.ai_response} (labelled ${expected}): ${got.ai_justification}`,
          );
      }
    }
    const total = labels.calls.length * Object.keys(labels.kpiPhrases).length;
    return { share: agree / total, misses };
  }

  test(`phrase spotting + rough transcript agree with the labels on at least ${minSpottingAgreement * 100} % of KPI answers`, () => {
    const { share, misses } = agreement("");
    assert.ok(
      share >= minSpottingAgreement,
      `agreement ${(share * 100).toFixed(0)} %:\n${misses.join("\n")}`,
    );
  });

  test(`the rough transcript alone agrees on at least ${minTranscriptAgreement * 100} %`, () => {
    const { share, misses } = agreement("_text");
    assert.ok(
      share >= minTranscriptAgreement,
      `agreement ${(share * 100).toFixed(0)} %:\n${misses.join("\n")}`,
    );
  });

  test("audio-measure KPIs answer from the recording: dead air fails on the calls with long silences", () => {
    const deadAir = (name: string) => answers.get(name)!.get("dead_air")!;
    assert.equal(deadAir("billing-call").ai_response, "Yes");
    assert.equal(deadAir("complaint-call").ai_response, "No");
    assert.match(
      deadAir("complaint-call").ai_justification,
      /Dead air was \d+(\.\d)? %; it should be under 10 %/,
    );
    assert.equal(deadAir("complaint-call").evidence[0].source, "measure");
    assert.equal(
      answers.get("mono-call")!.get("monologue")!.ai_response,
      "N/A",
      "no parties on a mono recording",
    );
  });

  test("the transcript is made per channel, speakers from the channels, and the planted card number is redacted", async () => {
    const answer = await api.get("/ingress/interactions/card-payment-call/transcript");
    assert.equal(answer.status, 200);
    const t = answer.body.data;
    assert.equal(t.format, "asr");
    assert.equal(t.timed, true);
    assert.deepEqual([...new Set(t.turns.map((x: Json) => x.speaker))].sort(), ["agent", "customer"]);
    assert.match(t.notes[0], /Transcribed from the recording by PocketSphinx/);
    assert.equal(t.redaction, "cqa");
    const cards = t.redactions.filter((r: Json) => r.kind === "card_number");
    assert.ok(cards.length >= 1, JSON.stringify(t.turns));
    for (const r of cards) {
      const turn = t.turns[r.turn_index];
      assert.equal(turn.speaker, "customer");
      assert.equal(turn.text.slice(r.char_start, r.char_end), "[card number]");
      assert.ok(
        r.start_seconds >= 10 && r.start_seconds <= 20,
        "the card number is read out between 0:10 and 0:20",
      );
    }
    assert.ok(!t.turns.some((x: Json) => /(one ){8}/.test(x.text)), "no run of spoken digits survives");
    const detail = await interaction(api, "card-payment-call");
    assert.match(detail.speech.transcriber, /PocketSphinx/);
    assert.ok(
      detail.speech.spotted_phrases.some(
        (p: Json) => p.phrase === "number on the card" && p.speaker === "agent",
      ),
    );
  });
});

describe("transcription and LLM KPIs through OpenAI-compatible servers", () => {
  let peer: OpenAiPeer;
  let files: LocalServer;
  let cqa: TestCqa;
  let api: AccountApi;
  const clock = new ManualClock("2026-03-02T09:00:00Z");
  let transcribed = 0;
  before(async () => {
    peer = await startOpenAiPeer((request) => {
      if (request.path.endsWith("/audio/transcriptions")) {
        // cqa sends the agent's channel, then the customer's.
        const agent = transcribed++ % 2 === 0;
        return {
          status: 200,
          body: verboseJson(
            agent
              ? [
                  {
                    start: 0.5,
                    end: 5.5,
                    text: " Thank you for calling Northwind Energy, my name is Sarah.",
                  },
                  { start: 55, end: 59.5, text: " Thank you for calling, have a great day." },
                ]
              : [{ start: 6.2, end: 9.1, text: " My card is 4111 1111 1111 1111 and I was charged twice." }],
          ),
        };
      }
      const prompt = JSON.stringify(request.json);
      const offered = prompt.includes("call you back tomorrow");
      return {
        status: 200,
        body: chatCompletion(
          JSON.stringify(
            offered
              ? {
                  answer: "Yes",
                  justification: "The agent committed to calling back.",
                  evidence: ["I'll call you back tomorrow at ten"],
                }
              : { answer: "Yes", justification: "Invented.", evidence: ["I promise a callback on Friday"] },
          ),
        ),
      };
    });
    files = await startFileServer({ "/billing.wav": fixtureRecording(call("billing-call")) });
    cqa = await startTestCqa({
      clock,
      env: {
        CQA_TRANSCRIBER: "openai",
        CQA_TRANSCRIBE_URL: peer.url,
        CQA_TRANSCRIBE_API_KEY: "sk-test",
        CQA_LLM_URL: peer.url,
        CQA_LLM_MODEL: "gpt-4o-mini",
        CQA_LLM_TIMEOUT_MS: "1000",
      },
    });
    api = accountApi(cqa, await cqa.createAccount());
  });
  after(async () => {
    await cqa?.stop();
    await files?.close();
    await peer?.close();
  });

  test("an audio-only call is transcribed per channel by the server and merged into turns by time, then redacted", async () => {
    peer.requests.length = 0;
    await ingest(api, {
      external_interaction_id: "served",
      audio_url: `${files.url}/billing.wav`,
      language: "en",
    });
    await cqa.drain();
    const transcriptions = peer.requests.filter((r) => r.path === "/v1/audio/transcriptions");
    assert.equal(transcriptions.length, 2, "one request per party's channel");
    assert.ok(
      transcriptions.every((r) => r.fields.get("language") === "en" && r.fields.get("model") === "whisper-1"),
    );
    const t = (await api.get("/ingress/interactions/served/transcript")).body.data;
    assert.deepEqual(
      t.turns.map((x: Json) => [x.speaker, x.start]),
      [
        ["agent", 0.5],
        ["customer", 6.2],
        ["agent", 55],
      ],
    );
    assert.equal(t.turns[1].text, "My card is [card number] and I was charged twice.");
    assert.match((await interaction(api, "served")).speech.transcriber, /whisper-1 at 127\.0\.0\.1/);
  });

  test("a 429 from the transcription server sends the job back to the queue with its Retry-After; it completes later", async () => {
    peer.script.push({
      status: 429,
      body: { error: { message: "Rate limit reached", type: "requests" } },
      headers: { "retry-after": "120" },
    });
    await ingest(api, { external_interaction_id: "rate-limited", audio_url: `${files.url}/billing.wav` });
    await cqa.drain();
    let detail = await interaction(api, "rate-limited");
    assert.equal(detail.status, "queued");
    assert.match(detail.waiting_reason, /answered 429: Rate limit reached; it will be tried again later/);
    clock.advance(121_000);
    await cqa.drain();
    detail = await interaction(api, "rate-limited");
    assert.equal(detail.status, "completed");
  });

  test("LLM KPIs: an answer backed by a real quote is kept; an invented quote makes it N/A; a timeout is N/A", async () => {
    const profile = {
      name: "LLM checks",
      categories: [
        {
          name: "Resolution",
          sub_categories: [
            {
              name: "Callback",
              kpis: [
                {
                  id: "callback",
                  name: "Callback offered",
                  question: "Did the agent offer to call the customer back?",
                  allow_na: true,
                  evaluator: { type: "llm", prompt: "A firm offer with a time counts." },
                },
              ],
            },
          ],
        },
      ],
    };
    assert.equal((await api.put(`/quality-profiles/${api.account.starterProfileId}`, profile)).status, 200);
    await ingest(api, {
      external_interaction_id: "llm-kept",
      channel_type: "CHAT",
      transcript_text:
        "Agent: Hello, how can I help?\nCustomer: My router keeps dropping.\nAgent: I'll call you back tomorrow at ten.",
    });
    await ingest(api, {
      external_interaction_id: "llm-invented",
      channel_type: "CHAT",
      transcript_text:
        "Agent: Hello, how can I help?\nCustomer: My router keeps dropping.\nAgent: Please restart it.",
    });
    await cqa.drain();
    const kept = kpisOf(await analysisOf(api, "llm-kept")).get("callback")!;
    assert.equal(kept.ai_response, "Yes");
    assert.match(
      kept.ai_justification,
      /^gpt-4o-mini at 127\.0\.0\.1:\d+: The agent committed to calling back\.$/,
    );
    assert.equal(kept.evidence[0].source, "llm");
    assert.equal(kept.evidence[0].turn_index, 2);
    const invented = kpisOf(await analysisOf(api, "llm-invented")).get("callback")!;
    assert.equal(invented.ai_response, "N/A");
    assert.match(invented.ai_justification, /none of its evidence is in the transcript/);

    peer.script.push({ hang: true }, { hang: true }, { hang: true });
    await ingest(api, {
      external_interaction_id: "llm-timeout",
      channel_type: "CHAT",
      transcript_text: "Agent: Hi\nCustomer: Hello",
    });
    await cqa.drain();
    const timedOut = kpisOf(await analysisOf(api, "llm-timeout")).get("callback")!;
    assert.equal(timedOut.ai_response, "N/A");
    assert.match(
      timedOut.ai_justification,
      /The language model could not answer: .*did not answer within 1 s/,
    );
  });

  test("while the language model works, the analysis is in progress and INTERACTION_ANALYSIS_IN_PROGRESS is queued", async () => {
    const receiver = await startWebhookReceiver(() => api.account.signingSecret);
    try {
      peer.script.push({ hang: true });
      const id = await ingest(api, {
        external_interaction_id: "llm-slow",
        channel_type: "CHAT",
        transcript_text: "Agent: Hello\nCustomer: I need a callback",
        callback_url: receiver.url,
      });
      const events = async () =>
        (
          await cqa.db.query<{ event: string }>(
            "SELECT event FROM outbox WHERE interaction_id = $1 ORDER BY id",
            [id],
          )
        ).rows.map((r) => r.event);
      // The model hangs (until its 1 s timeout): meanwhile the first step is committed and visible.
      const working = cqa.running.worker!.drain();
      const deadline = Date.now() + 5_000;
      while (!(await events()).includes("INTERACTION_ANALYSIS_IN_PROGRESS") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(await events(), ["INTERACTION_INGESTED", "INTERACTION_ANALYSIS_IN_PROGRESS"]);
      assert.equal((await analysisOf(api, "llm-slow")).status, "processing");
      await working;
      assert.deepEqual(await events(), [
        "INTERACTION_INGESTED",
        "INTERACTION_ANALYSIS_IN_PROGRESS",
        "INTERACTION_ANALYSIS_COMPLETED",
      ]);
      assert.equal((await analysisOf(api, "llm-slow")).status, "completed");
    } finally {
      await receiver.close();
    }
  });
});
