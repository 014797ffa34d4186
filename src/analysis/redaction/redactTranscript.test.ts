import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Transcript } from "../../core/transcript.ts";
import { parseTranscript } from "../transcript/parseTranscript.ts";
import { markRedactedBySource, placeholders, redactTranscript } from "./redactTranscript.ts";

const redact = (text: string) => redactTranscript(parseTranscript(text));
const texts = (t: Transcript) => t.turns.map((turn) => turn.text);

describe("PII redaction", () => {
  test("a written card number, Luhn-valid or not, 13 to 19 digits in any grouping", () => {
    for (const number of [
      "4111 1111 1111 1111",
      "4111-1111-1111-1112",
      "5500005555555559",
      "3782 822463 10005",
      "6011 0009 9013 9424 123",
    ]) {
      const t = redact(`Customer: my card is ${number}, thanks`);
      assert.equal(t.turns[0]!.text, "my card is [card number], thanks", number);
      assert.deepEqual(t.redactions, [{ turnIndex: 0, charStart: 11, charEnd: 24, kind: "card_number" }]);
    }
  });

  test("a card number read out digit by digit, split across turns by the agent's 'okay'", () => {
    const t = redact(
      [
        "Agent: Please read me the long number on the card.",
        "Customer: It is four one one one, one one one one,",
        "Agent: Okay.",
        "Customer: one one one one, one one one one.",
      ].join("\n"),
    );
    assert.deepEqual(texts(t), [
      "Please read me the long number on the card.",
      "It is [card number],",
      "Okay.",
      "[card number].",
    ]);
    assert.deepEqual(
      t.redactions?.map((r) => [r.turnIndex, r.kind]),
      [
        [1, "card_number"],
        [3, "card_number"],
      ],
    );
  });

  test("a card number split across turns in written groups", () => {
    const t = redact("Customer: 4929 1234\nAgent: yes\nCustomer: 5678 9012");
    assert.deepEqual(texts(t), ["[card number]", "yes", "[card number]"]);
  });

  test("security code: 3 or 4 digits answering a prompt, spoken or written", () => {
    const spoken = redact(
      "Agent: And the three digit security code on the back?\nCustomer: Seven three seven.",
    );
    assert.equal(spoken.turns[1]!.text, "[security code].");
    assert.equal(spoken.redactions?.[0]?.kind, "security_code");
    const written = redact("Agent: What's the CVV please?\nCustomer: it's 1234");
    assert.equal(written.turns[1]!.text, "it's [security code]");
    const inline = redact("Customer: the code on the back of the card is 737");
    assert.equal(inline.turns[0]!.text, "the code on the back of the card is [security code]");
  });

  test("three digits without a prompt, years and amounts are left alone", () => {
    const t = redact("Customer: I paid £86.40 on the 4th of May 1981 for 3 items, room 737.");
    assert.equal(t.turns[0]!.text, "I paid £86.40 on the 4th of May 1981 for 3 items, room 737.");
    assert.deepEqual(t.redactions, []);
    assert.equal(t.redaction, "cqa");
  });

  test("phone numbers in common written forms", () => {
    for (const phone of [
      "020 7946 0958",
      "+44 20 7946 0958",
      "(555) 123-4567",
      "555.123.4567",
      "+91 98765 43210",
    ]) {
      const t = redact(`Customer: call me on ${phone} after six`);
      assert.equal(t.turns[0]!.text, "call me on [phone number] after six", phone);
    }
  });

  test("e-mail addresses, written and spoken", () => {
    const t = redact(
      "Customer: it's jane.doe+bills@example.co.uk\nCustomer: or my email is jane dot doe at gmail dot com if that's easier",
    );
    assert.deepEqual(texts(t), ["it's [email]", "or my email is [email] if that's easier"]);
  });

  test("spoken digit sequences of four or more ('four one one one'), including 'double' and 'oh'", () => {
    const t = redact(
      "Customer: my account number is double four oh seven nine two\nCustomer: and my PIN is one two three four",
    );
    assert.deepEqual(texts(t), ["my account number is [digits]", "and my PIN is [digits]"]);
  });

  test("a number a party reads out does not continue into a long answer from the other party", () => {
    const t = redact(
      "Customer: it's one two\nAgent: I need the whole number on the front of your card please\nCustomer: three four",
    );
    assert.deepEqual(t.redactions, [], "two digits, an interruption, two digits: not one number");
  });

  test("timed transcripts keep the time of each redacted span, for the dashboard", () => {
    const t = redact("1\n00:00:05,000 --> 00:00:09,000\nCustomer: 4111 1111 1111 1111\n");
    assert.deepEqual(t.redactions?.[0], {
      turnIndex: 0,
      charStart: 0,
      charEnd: 13,
      kind: "card_number",
      startSeconds: 5,
      endSeconds: 9,
    });
  });

  test("the notes count what was redacted; placeholders say what they hide", () => {
    const t = redact("Customer: 4111 1111 1111 1111 and jane@example.com");
    assert.match(
      t.notes.at(-1)!,
      /Personal data redacted by cqa: 1 × \[email\], 1 × \[card number\]|1 × \[card number\], 1 × \[email\]/,
    );
    assert.equal(placeholders.card_number, "[card number]");
  });

  test("a transcript the source marked pii_redacted is left as it is, and says so", () => {
    const t = markRedactedBySource(parseTranscript("Customer: 4111 1111 1111 1111"));
    assert.equal(t.turns[0]!.text, "4111 1111 1111 1111");
    assert.equal(t.redaction, "source");
    assert.match(t.notes.at(-1)!, /already redacted/);
  });
});
