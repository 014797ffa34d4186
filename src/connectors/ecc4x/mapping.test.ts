import assert from "node:assert/strict";
import { test } from "node:test";
import { callFieldsSchema } from "./config.ts";
import { mapCallRow, type RowMapping, readPath } from "./mapping.ts";

const mapping = (names: Record<string, string> = {}): RowMapping => ({
  names: callFieldsSchema.parse(names),
  dateFormat: "yyyy-MM-dd HH:mm:ss",
  timeZone: "UTC",
  source: "ecc4x-app-server",
  recordingUrl: (sid) => `https://voicelog.example/recordings/${encodeURIComponent(sid)}`,
  read: readPath,
  covers: (name) => name.split(".")[0] ?? name,
});

test("a call row becomes a voice conversation: SID, times, recording URL, metadata under the default names", () => {
  const mapped = mapCallRow(
    {
      CallSid: "CA 1/2",
      agent: { id: "agent-42", name: "Priya" },
      started: "2026-04-01 09:00:00",
      secs: "1:05",
      queue: "billing",
      wrap_up: "resolved",
      nested: { ignored: true },
      list: [1, 2],
    },
    mapping({
      call_sid: "CallSid",
      agent_id: "agent.id",
      agent_name: "agent.name",
      start_time: "started",
      duration: "secs",
      disposition: "wrap_up",
    }),
  );
  assert.ok(mapped.ok);
  assert.deepEqual(mapped.item, {
    external_interaction_id: "CA 1/2",
    channel_type: "VOICE",
    source: "ecc4x-app-server",
    audio_url: "https://voicelog.example/recordings/CA%201%2F2",
    interaction_start_time: "2026-04-01T09:00:00.000Z",
    duration_seconds: 65,
    metadata: { queue: "billing", agent_id: "agent-42", agent_name: "Priya", disposition: "resolved" },
  });
});

test("a row without a call SID or with an unreadable time is refused with the field it came from", () => {
  const noSid = mapCallRow({ call_sid: " ", start_time: "2026-04-01 09:00:00" }, mapping());
  assert.deepEqual(noSid, { ok: false, callSid: null, reason: "The row has no call SID (field 'call_sid')" });
  const badTime = mapCallRow({ call_sid: "CA1", start_time: "1 April" }, mapping());
  assert.ok(!badTime.ok);
  assert.match(badTime.reason, /start time \(field 'start_time'\) '1 April' does not match date_format/);
});
