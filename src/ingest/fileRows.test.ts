import assert from "node:assert/strict";
import { test } from "node:test";
import { AppError } from "../core/errors.ts";
import { defaultLimits } from "../core/limits.ts";
import { checkColumnMapping, type FileReadOptions, type FileRowOutcome, readFileRows } from "./fileRows.ts";
import { itemSchemaFor } from "./interactionSchema.ts";

/** The text as a stream of byte chunks of the given size (small sizes split quotes, CRLFs and UTF-8). */
async function* chunked(text: string | Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  const bytes = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(
  text: string | Buffer,
  options: Partial<FileReadOptions> = {},
  chunkSize?: number,
): Promise<FileRowOutcome[]> {
  const outcomes: FileRowOutcome[] = [];
  for await (const outcome of readFileRows(chunked(text, chunkSize), {
    format: "csv",
    maxRows: 100_000,
    ...options,
  })) {
    outcomes.push(outcome);
  }
  return outcomes;
}

async function readError(text: string, options: Partial<FileReadOptions> = {}): Promise<AppError> {
  try {
    await read(text, options);
  } catch (error) {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.code, "VALIDATION_ERROR");
    return error;
  }
  assert.fail("the file was accepted");
}

const itemSchema = itemSchemaFor(defaultLimits);

// The example of the published API reference, byte for byte (its \n is a backslash and an n).
const apiExampleCsv = `external_interaction_id,channel_type,audio_url,transcript_url,transcript_text,language,agent,campaign
call-001,VOICE,https://s3.example.com/rec-001.wav,,,en,agent-42,retention
call-002,VOICE,https://s3.example.com/rec-002.wav,,,hi,agent-15,support
chat-001,CHAT,,,Agent: Hello! How can I help you today?\\nCustomer: I need to reset my password.,en,agent-42,retention
call-003,CHAT,,,,agent-42,retention
`;

test("the API reference's example CSV: three valid rows, call-003 rejected for having no content", async () => {
  const outcomes = await read(apiExampleCsv);
  assert.deepEqual(outcomes, [
    {
      kind: "row",
      row: 1,
      line: 2,
      item: {
        external_interaction_id: "call-001",
        channel_type: "VOICE",
        audio_url: "https://s3.example.com/rec-001.wav",
        language: "en",
        metadata: { agent: "agent-42", campaign: "retention" },
      },
    },
    {
      kind: "row",
      row: 2,
      line: 3,
      item: {
        external_interaction_id: "call-002",
        channel_type: "VOICE",
        audio_url: "https://s3.example.com/rec-002.wav",
        language: "hi",
        metadata: { agent: "agent-15", campaign: "support" },
      },
    },
    {
      kind: "row",
      row: 3,
      line: 4,
      item: {
        external_interaction_id: "chat-001",
        channel_type: "CHAT",
        transcript_text: "Agent: Hello! How can I help you today?\\nCustomer: I need to reset my password.",
        language: "en",
        metadata: { agent: "agent-42", campaign: "retention" },
      },
    },
    // The row has 7 values for 8 columns: the missing last one is empty, as the reference implies.
    {
      kind: "row",
      row: 4,
      line: 5,
      item: {
        external_interaction_id: "call-003",
        channel_type: "CHAT",
        language: "agent-42",
        metadata: { agent: "retention" },
      },
    },
  ]);
  const verdicts = outcomes.map((o) => (o.kind === "row" ? itemSchema.safeParse(o.item).success : false));
  assert.deepEqual(verdicts, [true, true, true, false]);
});

test("the API reference's column_mapping example renames three headers; agent and campaign become metadata", async () => {
  const csv =
    "Call_ID , type,recording,agent,campaign\nc-1,VOICE,https://s3.example.com/c-1.wav,agent-7,winback\n";
  const outcomes = await read(csv, {
    columnMapping: { call_id: "external_interaction_id", type: "channel_type", " Recording": "audio_url" },
  });
  assert.deepEqual(outcomes, [
    {
      kind: "row",
      row: 1,
      line: 2,
      item: {
        external_interaction_id: "c-1",
        channel_type: "VOICE",
        audio_url: "https://s3.example.com/c-1.wav",
        metadata: { agent: "agent-7", campaign: "winback" },
      },
    },
  ]);
});

const quotedCsv = [
  "external_interaction_id,channel_type,transcript_text,notes",
  'c1,CHAT,"Agent: Hi, how can I help?\nCustomer: My ""router"" is broken.",short',
  'c2,CHAT,plain,"multi\r\nline\nnote"',
  "c3,CHAT,third,x",
].join("\n");

test("quoted values keep commas, doubled quotes and newlines, and line numbers stay right", async () => {
  for (const chunkSize of [1, 3, 7, 64 * 1024]) {
    const outcomes = await read(quotedCsv, {}, chunkSize);
    assert.deepEqual(
      outcomes.map((o) => [o.row, o.line]),
      [
        [1, 2],
        [2, 4],
        [3, 7],
      ],
      `chunks of ${chunkSize} bytes`,
    );
    const [first, second] = outcomes;
    assert.equal(
      first?.kind === "row" && first.item["transcript_text"],
      'Agent: Hi, how can I help?\nCustomer: My "router" is broken.',
    );
    assert.deepEqual(second?.kind === "row" && second.item["metadata"], { notes: "multi\r\nline\nnote" });
  }
});

test("a byte order mark, CRLF line ends and blank lines are handled", async () => {
  const csv = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(
      "External_Interaction_ID,channel_type,audio_url\r\nc1,VOICE,https://a.example/1.wav\r\n\r\nc2,VOICE,https://a.example/2.wav\r\n",
    ),
  ]);
  for (const chunkSize of [1, 2, 64 * 1024]) {
    const outcomes = await read(csv, {}, chunkSize);
    assert.deepEqual(
      outcomes.map((o) => (o.kind === "row" ? [o.row, o.line, o.item["external_interaction_id"]] : o)),
      [
        [1, 2, "c1"],
        [2, 4, "c2"],
      ],
    );
  }
});

test("tab- and semicolon-delimited files are recognised from the header", async () => {
  const tabbed = await read("external_interaction_id\tchannel_type\tagent\nc1\tVOICE\ta, b\n");
  assert.deepEqual(tabbed[0]?.kind === "row" && tabbed[0].item, {
    external_interaction_id: "c1",
    channel_type: "VOICE",
    metadata: { agent: "a, b" },
  });
  const semicolons = await read(
    "external_interaction_id;channel_type;audio_url\nc1;VOICE;https://a.example/1.wav\n",
  );
  assert.equal(semicolons[0]?.kind === "row" && semicolons[0].item["audio_url"], "https://a.example/1.wav");
});

test("a row with more values than columns is rejected with its id; fewer values mean empty cells", async () => {
  const csv = [
    "external_interaction_id,channel_type,audio_url",
    "c1,VOICE,https://a.example/1.wav,unexpected",
    "c2,VOICE",
    "c3,VOICE,https://a.example/3.wav,", // a trailing comma adds only an empty value: accepted
  ].join("\n");
  const [extra, fewer, trailing] = await read(csv);
  assert.deepEqual(extra, {
    kind: "error",
    row: 1,
    line: 2,
    reason: "The row has 4 values but the header has 3 columns; quote values that contain the delimiter",
    externalInteractionId: "c1",
  });
  assert.deepEqual(fewer, {
    kind: "row",
    row: 2,
    line: 3,
    item: { external_interaction_id: "c2", channel_type: "VOICE" },
  });
  assert.equal(trailing?.kind, "row");
});

test("malformed quoting rejects only that row; reading resumes with the right line numbers", async () => {
  const csv = [
    "external_interaction_id,channel_type,transcript_text",
    'c1,CHAT,"he said "hi" and left"',
    'c2,CHAT,"fine, really"',
    'c3,CHAT,"never closed',
    "c4,CHAT,swallowed",
  ].join("\n");
  for (const chunkSize of [1, 64 * 1024]) {
    const outcomes = await read(csv, {}, chunkSize);
    assert.equal(outcomes.length, 3);
    const [bad, good, unclosed] = outcomes;
    assert.equal(bad?.kind, "error");
    assert.equal(bad?.line, 2);
    assert.equal(bad?.kind === "error" && bad.externalInteractionId, "c1");
    assert.match(
      bad?.kind === "error" ? bad.reason : "",
      /Invalid closing quote: value 3 has "h" after its closing quote on line 2/,
    );
    assert.deepEqual(good && [good.kind, good.row, good.line], ["row", 2, 3]);
    assert.equal(unclosed?.kind, "error");
    assert.equal(unclosed?.line, 4);
    assert.match(
      unclosed?.kind === "error" ? unclosed.reason : "",
      /the value opened on line 4 has no closing quote/,
    );
  }
});

test("a quote inside an unquoted value is kept as written", async () => {
  const [row] = await read("external_interaction_id,channel_type,height\nc1,VOICE,5'10\"\n");
  assert.deepEqual(row?.kind === "row" && row.item["metadata"], { height: "5'10\"" });
});

test("empty cells are omitted, whitespace is trimmed, and blank rows are skipped", async () => {
  const csv = "external_interaction_id,channel_type,language,agent\n c1 , VOICE ,, \n,,,\n   \nc2,CHAT,en,\n";
  const outcomes = await read(csv);
  assert.deepEqual(outcomes, [
    { kind: "row", row: 1, line: 2, item: { external_interaction_id: "c1", channel_type: "VOICE" } },
    {
      kind: "row",
      row: 2,
      line: 5,
      item: { external_interaction_id: "c2", channel_type: "CHAT", language: "en" },
    },
  ]);
});

test("duration_seconds and pii_redacted are converted only when unambiguous", async () => {
  const csv = [
    "external_interaction_id,channel_type,duration_seconds,pii_redacted",
    "c1,VOICE,300,Yes",
    "c2,VOICE,3.5,0",
    "c3,VOICE,five,maybe",
  ].join("\n");
  const items = (await read(csv)).map((o) => (o.kind === "row" ? o.item : null));
  assert.deepEqual(items, [
    { external_interaction_id: "c1", channel_type: "VOICE", duration_seconds: 300, pii_redacted: true },
    { external_interaction_id: "c2", channel_type: "VOICE", duration_seconds: "3.5", pii_redacted: false },
    { external_interaction_id: "c3", channel_type: "VOICE", duration_seconds: "five", pii_redacted: "maybe" },
  ]);
  // Left as text so that validation names the column.
  const c3 = itemSchema.safeParse({ ...items[2], audio_url: "https://a.example/x.wav" });
  assert.equal(c3.success, false);
});

test("audio_url and transcript_url keep several ;-separated URLs", async () => {
  const [row] = await read(
    "external_interaction_id,channel_type,audio_url\nc1,VOICE,https://a.example/1.wav; https://a.example/2.wav\n",
  );
  assert.equal(
    row?.kind === "row" && row.item["audio_url"],
    "https://a.example/1.wav; https://a.example/2.wav",
  );
});

test("file_url is used by its type when a row has no audio_url or transcript_url", async () => {
  const csv = [
    "external_interaction_id,channel_type,audio_url,file_url,file_type",
    "c1,VOICE,,https://a.example/rec/c1.MP3?sig=abc,",
    "c2,CHAT,,https://a.example/t/c2,txt",
    "c3,VOICE,https://a.example/c3.wav,https://a.example/other.pdf,",
    "c4,VOICE,,https://a.example/c4.xyz,",
    "c5,VOICE,,https://a.example/c5,",
  ].join("\n");
  const [c1, c2, c3, c4, c5] = await read(csv);
  assert.deepEqual(c1?.kind === "row" && c1.item, {
    external_interaction_id: "c1",
    channel_type: "VOICE",
    audio_url: "https://a.example/rec/c1.MP3?sig=abc",
  });
  assert.deepEqual(c2?.kind === "row" && c2.item, {
    external_interaction_id: "c2",
    channel_type: "CHAT",
    transcript_url: "https://a.example/t/c2",
  });
  assert.deepEqual(c3?.kind === "row" && c3.item, {
    external_interaction_id: "c3",
    channel_type: "VOICE",
    audio_url: "https://a.example/c3.wav",
  });
  assert.deepEqual(c4, {
    kind: "error",
    row: 4,
    line: 5,
    reason:
      'The file type "xyz" (from file_url) is not supported; use an audio type (mp3, wav, ogg, flac, m4a, aac, ' +
      "wma, amr) or a transcript type (txt, pdf, doc, docx, srt, vtt)",
    externalInteractionId: "c4",
  });
  assert.match(c5?.kind === "error" ? c5.reason : "", /has no file extension and no file_type was given/);
});

test("request defaults fill missing values and request metadata merges under the row's", async () => {
  const csv = [
    "external_interaction_id,channel_type,audio_url,source,pii_redacted,callback_url,campaign",
    "c1,VOICE,https://a.example/1.wav,,,,",
    "c2,VOICE,https://a.example/2.wav,genesys,false,https://hooks.example/row,winback",
  ].join("\n");
  const defaults = {
    source: "bulk-upload",
    pii_redacted: true,
    callback_url: "https://hooks.example/job",
    metadata: { campaign: "default", batch: 7 },
  };
  const items = (await read(csv, { defaults })).map((o) => (o.kind === "row" ? o.item : null));
  assert.deepEqual(items, [
    {
      external_interaction_id: "c1",
      channel_type: "VOICE",
      audio_url: "https://a.example/1.wav",
      source: "bulk-upload",
      pii_redacted: true,
      callback_url: "https://hooks.example/job",
      metadata: { campaign: "default", batch: 7 },
    },
    {
      external_interaction_id: "c2",
      channel_type: "VOICE",
      audio_url: "https://a.example/2.wav",
      source: "genesys",
      pii_redacted: false,
      callback_url: "https://hooks.example/row",
      metadata: { campaign: "winback", batch: 7 },
    },
  ]);
});

test("a header without external_interaction_id is refused with the headers found and a mapping hint", async () => {
  const error = await readError("call_id,type,recording\nc1,VOICE,https://a.example/1.wav\n");
  assert.equal(
    error.message,
    "The CSV header has no external_interaction_id column (found: call_id, type, recording). Name the column " +
      'external_interaction_id, or map yours with column_mapping, e.g. {"call_id": "external_interaction_id"}',
  );
});

test("duplicate columns after mapping are refused by name", async () => {
  const error = await readError("call_id,External_Interaction_ID,channel_type\n", {
    columnMapping: { call_id: "external_interaction_id" },
  });
  assert.match(
    error.message,
    /duplicate columns after column_mapping: external_interaction_id \(from "call_id" and "External_Interaction_ID"\)/,
  );
});

test("a value under a column without a header is rejected; an empty one is ignored", async () => {
  const csv = "external_interaction_id,channel_type,\nc1,VOICE,\nc2,VOICE,oops\n";
  const [c1, c2] = await read(csv);
  assert.equal(c1?.kind, "row");
  assert.deepEqual(c2 && [c2.kind, c2.kind === "error" && c2.reason], [
    "error",
    "The row has a value in column 3, which has no header; name the column or remove the value",
  ]);
});

test("checkColumnMapping explains what is wrong with a mapping", () => {
  assert.deepEqual(checkColumnMapping({ call_id: "external_interaction_id", Type: "Channel_Type" }), []);
  assert.deepEqual(checkColumnMapping(["x"]), [
    'column_mapping must be an object of {"your header": "canonical column"}',
  ]);
  const problems = checkColumnMapping({ a: "agent_id", b: 3, " A ": "source", "": "language" });
  assert.equal(problems.length, 4);
  assert.match(
    problems[0] ?? "",
    /column_mapping\["a"\] maps to "agent_id", which is not a canonical column; use one of external_interaction_id/,
  );
  assert.match(problems[1] ?? "", /column_mapping\["b"\] must be a string/);
  assert.match(problems[2] ?? "", /lists "a" and " A ", which are the same header/);
  assert.match(problems[3] ?? "", /empty header name/);
});

test("an invalid column_mapping fails the file before any row", async () => {
  const error = await readError(apiExampleCsv, { columnMapping: { id: "identifier" } });
  assert.match(error.message, /not a canonical column/);
});

test("an empty CSV file is refused; a header alone gives no rows", async () => {
  assert.match((await readError("")).message, /The CSV file is empty/);
  assert.deepEqual(await read("external_interaction_id,channel_type\n"), []);
});

test("a file that is not UTF-8 is refused as a whole", async () => {
  const latin1 = Buffer.from("external_interaction_id,channel_type,agent\nc1,VOICE,Jos\xe9\n", "latin1");
  await assert.rejects(read(latin1), /The file is not UTF-8 text/);
});

test("more rows than maxRows fails the file when the first extra row is reached", async () => {
  const csv = "external_interaction_id,channel_type\nc1,VOICE\nc2,VOICE\nc3,VOICE\n";
  assert.equal((await read(csv, { maxRows: 3 })).length, 3);
  const seen: number[] = [];
  await assert.rejects(
    async () => {
      for await (const o of readFileRows(chunked(csv), { format: "csv", maxRows: 2 })) seen.push(o.row);
    },
    (error: unknown) =>
      error instanceof AppError &&
      error.code === "VALIDATION_ERROR" &&
      error.message === "The file has more than 2 rows; split it into files of at most 2 rows",
  );
  assert.deepEqual(seen, [1, 2]);
});

test("startAfterRow resumes a job without repeating rows, keeping row and line numbers", async () => {
  const outcomes = await read(quotedCsv, { startAfterRow: 1 });
  assert.deepEqual(
    outcomes.map((o) => [o.row, o.line]),
    [
      [2, 4],
      [3, 7],
    ],
  );
});

test("NDJSON: objects become items, extra keys metadata, bad lines errors with their line", async () => {
  const ndjson = [
    '{"external_interaction_id":"n1","channel_type":"CHAT","transcript_text":"hi","agent":"a-1","metadata":{"agent":"a-2","team":"x"}}',
    "",
    '{"external_interaction_id":"n2","channel_type":"CHAT", oops}',
    "[1,2]",
    '  {"external_interaction_id":"n4","channel_type":"VOICE","file_url":"https://a.example/n4.wav"}  \r',
    '{"external_interaction_id":"n5","channel_type":"VOICE","audio_url":"https://a.example/n5.wav"}',
  ].join("\n");
  for (const chunkSize of [1, 64 * 1024]) {
    const outcomes = await read(
      ndjson,
      { format: "ndjson", columnMapping: { agent: "source" }, defaults: { source: "upload" } },
      chunkSize,
    );
    assert.deepEqual(outcomes[0], {
      kind: "row",
      row: 1,
      line: 1,
      item: {
        external_interaction_id: "n1",
        channel_type: "CHAT",
        transcript_text: "hi",
        source: "upload",
        metadata: { agent: "a-2", team: "x" },
      },
    });
    const bad = outcomes[1];
    assert.deepEqual(bad && [bad.kind, bad.row, bad.line], ["error", 2, 3]);
    assert.match(bad?.kind === "error" ? bad.reason : "", /^The line is not valid JSON: /);
    assert.equal(bad?.kind === "error" && bad.externalInteractionId, "n2");
    assert.deepEqual(outcomes[2], {
      kind: "error",
      row: 3,
      line: 4,
      reason: "The line must be a JSON object, not an array",
      externalInteractionId: null,
    });
    assert.deepEqual(outcomes[3]?.kind === "row" && outcomes[3].item, {
      external_interaction_id: "n4",
      channel_type: "VOICE",
      audio_url: "https://a.example/n4.wav",
      source: "upload",
    });
    assert.deepEqual(outcomes[4] && [outcomes[4].row, outcomes[4].line], [5, 6]);
  }
});

test("the file is read as a stream: the first row arrives before the source is consumed", async () => {
  let chunksPulled = 0;
  async function* endless(): AsyncGenerator<string> {
    yield "external_interaction_id,channel_type,audio_url\n";
    for (let i = 0; i < 1_000_000; i++) {
      chunksPulled++;
      yield `c${i},VOICE,https://a.example/${i}.wav\n`;
    }
  }
  for await (const outcome of readFileRows(endless(), { format: "csv", maxRows: 100_000 })) {
    assert.equal(outcome.row, 1);
    break;
  }
  assert.ok(chunksPulled < 10, `${chunksPulled} chunks pulled for one row`);
});

// Speed is measured by the benchmark, never asserted here: a loaded CI machine must not fail a test.
test("20,000 generated rows are read correctly", async () => {
  const lines = ["external_interaction_id,channel_type,audio_url,duration_seconds,language,agent,campaign"];
  for (let i = 0; i < 20_000; i++) {
    lines.push(`call-${i},VOICE,https://s3.example.com/rec-${i}.wav,${i % 600},en,agent-${i % 50},retention`);
  }
  const csv = `${lines.join("\n")}\n`;
  const outcomes = await read(csv);
  assert.equal(outcomes.length, 20_000);
  assert.ok(outcomes.every((o, i) => o.kind === "row" && o.row === i + 1 && o.line === i + 2));
  assert.deepEqual(outcomes[19_999]?.kind === "row" && outcomes[19_999].item, {
    external_interaction_id: "call-19999",
    channel_type: "VOICE",
    audio_url: "https://s3.example.com/rec-19999.wav",
    duration_seconds: 19_999 % 600,
    language: "en",
    metadata: { agent: "agent-49", campaign: "retention" },
  });
});
