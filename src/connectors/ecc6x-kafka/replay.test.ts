import assert from "node:assert/strict";
import { test } from "node:test";
import { replayOffsetProblems } from "./replay.ts";

const topics = ["ecc.events", "ecc.chats"];
// ecc.events: two partitions, the first with its oldest events deleted by retention.
const ranges = new Map([
  [
    "ecc.events",
    [
      { first: 100n, end: 1500n },
      { first: 0n, end: 900n },
    ],
  ],
  ["ecc.chats", null],
]);

test("offsets within what each partition holds, its end included, are accepted", () => {
  assert.deepEqual(replayOffsetProblems({ "ecc.events": { "0": 100, "1": 900 } }, topics, ranges), []);
  assert.deepEqual(replayOffsetProblems({ "ecc.events": { "0": 1200 } }, topics, ranges), []);
});

test("a topic the integration does not read, or the cluster does not have, is named", () => {
  assert.deepEqual(replayOffsetProblems({ "ecc.other": { "0": 1 } }, topics, ranges), [
    "offsets: topic 'ecc.other' is not one this integration reads (it reads 'ecc.events', 'ecc.chats')",
  ]);
  assert.match(
    replayOffsetProblems({ "ecc.chats": { "0": 1 } }, topics, ranges).join(),
    /topic 'ecc\.chats' does not exist on the cluster/,
  );
});

test("a partition that does not exist, an offset past the end or deleted: each says what range to give", () => {
  const problems = replayOffsetProblems({ "ecc.events": { "0": 50, "1": 901, "7": 0 } }, topics, ranges);
  assert.deepEqual(problems, [
    "offsets: ecc.events/0 no longer holds offset 50 (the topic's retention deleted the events before 100): give an offset from 100 to 1500",
    "offsets: 901 is past the end of ecc.events/1, whose next offset is 900: give an offset from 0 to 900 (900 reads only new events)",
    "offsets: topic 'ecc.events' has no partition 7 (it has partitions 0 to 1)",
  ]);
});
