import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../config/config.ts";
import { runDoctor } from "./doctor.ts";

test("cqa doctor says which engines are missing, why, and what to install; optional ones do not fail it", async () => {
  let output = "";
  const code = await runDoctor(
    loadConfig({
      CQA_FFMPEG_PATH: "/nonexistent/ffmpeg",
      CQA_POCKETSPHINX_BIN: "/nonexistent/pocketsphinx_continuous",
    }),
    (text) => {
      output += text;
    },
  );
  assert.equal(code, 0);
  assert.match(output, /ok {3}audio measures +built in/);
  assert.match(
    output,
    /-- {3}ffmpeg +'\/nonexistent\/ffmpeg' was not found: install ffmpeg \(Debian\/Ubuntu: apt-get install ffmpeg\)/,
  );
  assert.match(
    output,
    /-- {3}pocketsphinx +'\/nonexistent\/pocketsphinx_continuous' was not found: install it with apt-get install pocketsphinx/,
  );
  assert.match(output, /transcriber +none: audio-only calls get audio measures only/);
});

test("cqa doctor calls a configured server and reports when it does not answer", async () => {
  let output = "";
  await runDoctor(loadConfig({ CQA_TRANSCRIBE_URL: "http://127.0.0.1:9/v1" }), (text) => {
    output += text;
  });
  assert.match(output, /transcription server +http:\/\/127\.0\.0\.1:9\/v1 does not answer/);
});
