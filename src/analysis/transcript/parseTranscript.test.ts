import assert from "node:assert/strict";
import { test } from "node:test";
import { AppError } from "../../core/errors.ts";
import { chatJson, goodCallPlain, goodCallSrt, holdCallVtt, stereoSegmentsJson } from "../fixtures/calls.ts";
import { parseTranscript } from "./parseTranscript.ts";

function speakers(text: string, hint = {}) {
  return parseTranscript(text, hint).turns.map((t) => `${t.speaker}:${t.text}`);
}

function assertInvalid(run: () => unknown, messagePart: RegExp) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "TRANSCRIPT_INVALID");
    assert.match(error.message, messagePart);
    assert.match(error.message, /Accepted forms/);
    return true;
  });
}

test("a plain call transcript becomes timed agent and customer turns", () => {
  const transcript = parseTranscript(goodCallPlain);
  assert.equal(transcript.format, "plain");
  assert.equal(transcript.timed, true);
  assert.equal(transcript.turns.length, 15);
  assert.deepEqual(transcript.turns[0], {
    index: 0,
    speaker: "agent",
    speakerLabel: "Agent",
    text: "Good morning, thank you for calling Northwind Energy, my name is Priya. How can I help you today?",
    start: 2,
  });
  assert.equal(transcript.turns[8]?.start, 118);
  assert.deepEqual(transcript.notes, []);
});

test("speaker label synonyms map to roles whatever their case", () => {
  const text =
    "REP: hello\nCaller: hi\nAdvisor: yes\nclient: ok\nIVR: please hold\nSupport Agent (Kim): sure\nMember: thanks";
  assert.deepEqual(
    parseTranscript(text).turns.map((t) => t.speaker),
    ["agent", "customer", "agent", "customer", "system", "agent", "customer"],
  );
});

test("unlabelled lines continue the turn before them", () => {
  const text =
    "Agent: Thanks for calling.\nHow can I help?\n\nCustomer: My card was declined\nat the petrol station.";
  assert.deepEqual(speakers(text), [
    "agent:Thanks for calling.\nHow can I help?",
    "customer:My card was declined\nat the petrol station.",
  ]);
});

test("leading timestamps in brackets, parentheses or bare become turn start seconds", () => {
  const text =
    "[00:01:02] Agent: one\n(01:12) Customer: two\n00:02:05.5 Agent: three\nCustomer (02:10): four";
  assert.deepEqual(
    parseTranscript(text).turns.map((t) => t.start),
    [62, 72, 125.5, 130],
  );
});

test("chat clock times are counted from the first message and say so", () => {
  const text =
    "10:30:01 Agent: Hi, welcome to support.\n10:30:45 Customer: hello\n10:31:02 PM Agent: sorry, wrong clock";
  const transcript = parseTranscript(text.replace(" PM", ""));
  assert.deepEqual(
    transcript.turns.map((t) => t.start),
    [0, 44, 61],
  );
  assert.match(transcript.notes[0] ?? "", /clock times .*10:30:01/);
  const afternoon = parseTranscript("[2:59:50 PM] Agent: hello\n[3:00:05 PM] Customer: hi");
  assert.deepEqual(
    afternoon.turns.map((t) => t.start),
    [0, 15],
  );
});

test("a chat that runs past midnight keeps counting forward", () => {
  const transcript = parseTranscript("[23:59:30] Agent: Hello\n[00:00:10] Customer: Hi there");
  assert.deepEqual(
    transcript.turns.map((t) => t.start),
    [0, 40],
  );
});

test("a sentence starting with a time is not taken as a new turn", () => {
  const text =
    "Customer: When can the engineer come?\nAgent: Tomorrow morning.\n9:30 would be the earliest slot.";
  assert.deepEqual(speakers(text), [
    "customer:When can the engineer come?",
    "agent:Tomorrow morning.\n9:30 would be the earliest slot.",
  ]);
});

test("text from a CSV cell with written-out \\n is split into lines", () => {
  const text = "Agent: Thank you for calling.\\nCustomer: Hi, I need help with my bill.\\nAgent: Of course.";
  assert.deepEqual(speakers(text), [
    "agent:Thank you for calling.",
    "customer:Hi, I need help with my bill.",
    "agent:Of course.",
  ]);
});

test("a one-line chat with inline labels is split at each label", () => {
  assert.deepEqual(
    speakers("Agent: Hello, how can I help? Customer: My parcel is late. Agent: Sorry about that."),
    ["agent:Hello, how can I help?", "customer:My parcel is late.", "agent:Sorry about that."],
  );
});

test("a text without labels becomes one turn of unknown speaker", () => {
  const transcript = parseTranscript(
    "thank you for calling how can I help\nyes I want to cancel my contract",
  );
  assert.equal(transcript.turns.length, 1);
  assert.equal(transcript.turns[0]?.speaker, "unknown");
  assert.equal(transcript.turns[0]?.speakerLabel, "");
  assert.equal(transcript.timed, false);
});

test("a colon inside a sentence does not make a speaker", () => {
  const text = "Agent: Your reference is below.\nNote: keep it safe.\nCustomer: Thanks.";
  assert.deepEqual(speakers(text), [
    "agent:Your reference is below.\nNote: keep it safe.",
    "customer:Thanks.",
  ]);
});

test("two unnamed speakers are taken as agent (first to speak) and customer, with a note", () => {
  const transcript = parseTranscript(
    "Speaker 1: Thanks for calling Acme.\nSpeaker 2: Hi, quick question.\nSpeaker 1: Sure.",
  );
  assert.deepEqual(
    transcript.turns.map((t) => [t.speaker, t.speakerLabel]),
    [
      ["agent", "Speaker 1"],
      ["customer", "Speaker 2"],
      ["agent", "Speaker 1"],
    ],
  );
  assert.match(transcript.notes[0] ?? "", /"Speaker 1" spoke first and was taken as the agent/);
});

test("agent names used as labels are inferred when the other side is named", () => {
  const transcript = parseTranscript(
    "Sarah: Thanks for calling, Sarah speaking.\nCustomer: Hi Sarah.\nSarah: How can I help?",
  );
  assert.deepEqual(
    transcript.turns.map((t) => t.speaker),
    ["agent", "customer", "agent"],
  );
  assert.match(transcript.notes[0] ?? "", /"Sarah" was taken as the agent/);
});

test("a header before the first label is left out with a note", () => {
  const transcript = parseTranscript("Call transcript 2026-03-02\nAgent: Hello.\nCustomer: Hi.");
  assert.equal(transcript.turns.length, 2);
  assert.match(transcript.notes[0] ?? "", /left out: "Call transcript 2026-03-02"/);
});

test("Otter-style headings with the time on the speaker line", () => {
  const transcript = parseTranscript(
    "Speaker 1  0:02\nThanks for calling.\n\nSpeaker 2  0:06\nHi, I have a question.",
  );
  assert.deepEqual(
    transcript.turns.map((t) => [t.speakerLabel, t.start, t.text]),
    [
      ["Speaker 1", 2, "Thanks for calling."],
      ["Speaker 2", 6, "Hi, I have a question."],
    ],
  );
});

test("SRT cues keep their timing and stay separate turns for one speaker", () => {
  const transcript = parseTranscript(goodCallSrt);
  assert.equal(transcript.format, "srt");
  assert.equal(transcript.timed, true);
  assert.equal(transcript.turns.length, 9);
  assert.deepEqual(transcript.turns[1], {
    index: 1,
    speaker: "agent",
    speakerLabel: "SPEAKER_00",
    text: "How can I help you today?",
    start: 8.4,
    end: 9,
  });
  assert.equal(transcript.turns[2]?.speaker, "customer");
  assert.match(transcript.notes.join(" "), /SPEAKER_00/);
});

test("SRT without a blank line before a cue number still reads every cue", () => {
  const srt =
    "1\n00:00:01,000 --> 00:00:02,000\nAgent: Hello\n2\n00:00:02,500 --> 00:00:04,000\nCustomer: Hi";
  assert.deepEqual(speakers(srt), ["agent:Hello", "customer:Hi"]);
});

test("an SRT cue without a label continues the previous speaker", () => {
  const srt =
    "1\n00:00:01,000 --> 00:00:03,000\nAgent: Thanks for calling\n\n2\n00:00:03,000 --> 00:00:05,000\nhow can I help?\n";
  assert.deepEqual(speakers(srt), ["agent:Thanks for calling", "agent:how can I help?"]);
});

test("WebVTT voice tags, cue settings, notes and several voices in one cue", () => {
  const transcript = parseTranscript(holdCallVtt);
  assert.equal(transcript.format, "vtt");
  assert.equal(
    transcript.turns[0]?.text,
    "Hello, thanks for calling Contoso Travel, you're speaking with Marco.",
  );
  assert.equal(transcript.turns[0]?.start, 1);
  assert.equal(transcript.turns[0]?.end, 6.5);
  const shared = transcript.turns.filter((t) => t.start === 104.5);
  assert.deepEqual(
    shared.map((t) => `${t.speaker}:${t.text}`),
    ["agent:Done. Is there anything else I can do for you?", "customer:No thanks."],
  );
  assert.ok(transcript.turns.every((t) => !t.text.includes("<")));
});

test("a declared SRT with no cue is refused with an example of a cue", () => {
  assertInvalid(() => parseTranscript("Agent: hello", { format: "srt" }), /SRT transcript has no cues/);
  assertInvalid(() => parseTranscript("just words", { fileName: "call-1.srt" }), /no cues/);
});

test("JSON chat messages with ISO timestamps and roles", () => {
  const transcript = parseTranscript(chatJson);
  assert.equal(transcript.format, "json");
  assert.equal(transcript.turns.length, 8);
  assert.deepEqual(
    transcript.turns.slice(0, 2).map((t) => [t.speaker, t.speakerLabel, t.start]),
    [
      ["agent", "agent", 0],
      ["customer", "customer", 39],
    ],
  );
  assert.equal(transcript.timed, true);
  assert.match(transcript.notes.join(" "), /clock times/);
});

test("JSON channels 0 and 1 are agent and customer, times in milliseconds, and a note says so", () => {
  const transcript = parseTranscript(stereoSegmentsJson, { contentType: "application/json; charset=utf-8" });
  assert.deepEqual(
    transcript.turns.map((t) => [t.speaker, t.speakerLabel, t.start, t.end]),
    [
      ["agent", "channel 0", 1.2, 5.6],
      ["customer", "channel 1", 6, 9.1],
      ["agent", "channel 0", 9.5, 14],
    ],
  );
  assert.match(transcript.notes[0] ?? "", /Channel 0 was taken as the agent/);
});

test("JSON segments accept the common field names and time forms", () => {
  const segments = [
    { participant: "Agent", utterance: "Welcome", startTime: "00:00:01.500", endTime: "00:00:03" },
    { speaker: "SPEAKER_1", content: [{ type: "text", text: "Hello" }], offset: 4, duration: 2 },
    { role: "user", text: "   " },
  ];
  const transcript = parseTranscript(JSON.stringify({ turns: segments }));
  assert.deepEqual(
    transcript.turns.map((t) => [t.speaker, t.text, t.start, t.end]),
    [
      ["agent", "Welcome", 1.5, 3],
      ["customer", "Hello", 4, 6],
    ],
  );
});

test("JSON segments listed one channel after the other are put back in time order", () => {
  const transcript = parseTranscript(
    JSON.stringify([
      { channel: 0, start: 0.5, text: "thanks for calling" },
      { channel: 0, start: 6, text: "sure, one moment" },
      { channel: 1, start: 3, text: "hi, I need a refund" },
    ]),
  );
  assert.deepEqual(
    transcript.turns.map((t) => t.text),
    ["thanks for calling", "hi, I need a refund", "sure, one moment"],
  );
  assert.match(transcript.notes.join(" "), /sorted by start time/);
});

test("a JSON transcript given as a single string is read as plain lines", () => {
  assert.deepEqual(speakers(JSON.stringify({ transcript: "Agent: Hello\nCustomer: Hi" })), [
    "agent:Hello",
    "customer:Hi",
  ]);
});

test("a bracketed timestamp at the start is not mistaken for JSON", () => {
  assert.deepEqual(speakers("[00:00:01] Agent: hello\n[00:00:03] Customer: hi"), [
    "agent:hello",
    "customer:hi",
  ]);
});

test("unusable transcripts are refused with a reason and the accepted forms", () => {
  assertInvalid(() => parseTranscript(""), /empty/);
  assertInvalid(() => parseTranscript(" \n\t "), /empty/);
  assertInvalid(() => parseTranscript("{ not json", {}), /not valid JSON/);
  assertInvalid(() => parseTranscript("Agent: hi", { contentType: "application/json" }), /declared as JSON/);
  assertInvalid(() => parseTranscript('{"call_id": 5}'), /no list of segments.*"segments"/);
  assertInvalid(() => parseTranscript('[{"speaker": "agent"}]'), /None of the 1 JSON segments has text/);
  assertInvalid(() => parseTranscript("Agent:\nCustomer:"), /plain-text transcript has no turn with text/);
});

test("an explicit format wins over what the content looks like", () => {
  const transcript = parseTranscript('{"speaker": "agent"}', {
    format: "plain",
    contentType: "application/json",
  });
  assert.equal(transcript.format, "plain");
  assert.equal(transcript.turns[0]?.text, '{"speaker": "agent"}');
});

test("a .txt file holding SRT is recognised from its content", () => {
  assert.equal(
    parseTranscript(goodCallSrt, { fileName: "call.txt", contentType: "text/plain" }).format,
    "srt",
  );
});

test("a mono recording's diarised speakers are told apart by label, not by its single channel", () => {
  const transcript = parseTranscript(
    JSON.stringify({
      results: {
        utterances: [
          {
            channel: 0,
            speaker: 0,
            start: 0.4,
            end: 3.1,
            transcript: "thanks for calling acme how can i help",
          },
          { channel: 0, speaker: 1, start: 3.5, end: 6.0, transcript: "hi my card was declined" },
        ],
      },
    }),
  );
  assert.deepEqual(
    transcript.turns.map((t) => [t.speaker, t.speakerLabel]),
    [
      ["agent", "0"],
      ["customer", "1"],
    ],
  );
  assert.doesNotMatch(transcript.notes.join(" "), /Channel 0/);
  assert.match(transcript.notes.join(" "), /"0" spoke first and was taken as the agent/);
});

test("a continuation line ending in a time is not mistaken for a speaker heading", () => {
  const text = "Agent: The engineer can come on Friday.\nsee you at 10:30\nCustomer: Perfect, thanks.";
  assert.deepEqual(speakers(text), [
    "agent:The engineer can come on Friday.\nsee you at 10:30",
    "customer:Perfect, thanks.",
  ]);
});
