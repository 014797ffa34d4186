import assert from "node:assert/strict";
import { test } from "node:test";
import { findPhrase } from "./fuzzyMatch.ts";

test("an exact phrase is found with offsets pointing at its words", () => {
  const text = "Good morning, thank you for calling Acme Bank. How can I help?";
  const match = findPhrase(text, "thank you for calling", 0.8);
  assert.deepEqual(match, { charStart: 14, charEnd: 35, quote: "thank you for calling", similarity: 1 });
});

test("case and punctuation differences still count as the same words", () => {
  const text = "THANK YOU -- for calling!!";
  const match = findPhrase(text, "Thank you for calling.", 0.8);
  assert.equal(match?.similarity, 1);
  assert.equal(match?.quote, "THANK YOU -- for calling");
});

test("a speech-recognition misspelling matches at the default 0.8 similarity", () => {
  const match = findPhrase("hi thank you for caling how may i help", "thank you for calling", 0.8);
  assert.ok(match);
  assert.equal(match.quote, "thank you for caling");
  assert.ok(match.similarity >= 0.8 && match.similarity < 1, String(match.similarity));
});

test("an unrelated sentence does not match", () => {
  assert.equal(findPhrase("I would like to cancel my card please", "thank you for calling", 0.8), null);
  assert.equal(findPhrase("can you hold the line for a sec", "thank you for holding", 0.8), null);
});

test("contractions match their long forms in both directions", () => {
  assert.equal(
    findPhrase("Oh no, I'm sorry to hear that.", "I am sorry to hear", 0.8)?.quote,
    "I'm sorry to hear",
  );
  assert.equal(findPhrase("I am sorry about that", "I'm sorry", 0.8)?.similarity, 1);
  assert.equal(findPhrase("we can't do that today", "cannot do that", 0.8)?.quote, "can't do that");
  assert.equal(findPhrase("Well, we’ll sort it out", "we will sort it out", 0.8)?.quote, "we’ll sort it out");
  assert.equal(findPhrase("I dont know", "I don't know", 1)?.similarity, 1);
});

test("short phrases must match exactly so that 'hell' does not flag 'hello'", () => {
  assert.equal(findPhrase("Hello, how are you?", "hell", 0.6), null);
  assert.equal(findPhrase("don't worry about it", "sorry", 0.6), null);
  assert.equal(findPhrase("What the hell is this", "hell", 0.8)?.quote, "hell");
});

test("a phrase is matched on whole words, not inside longer words", () => {
  assert.equal(findPhrase("the holder of the account", "hold", 0.8), null);
  assert.equal(findPhrase("please holdon", "please hold on", 0.8)?.quote, "please holdon");
});

test("the best of several candidate windows is returned", () => {
  const text = "thank you for your patience, and thank you for holding";
  const match = findPhrase(text, "thank you for holding", 0.8);
  assert.equal(match?.similarity, 1);
  assert.equal(text.slice(match!.charStart, match!.charEnd), "thank you for holding");
  assert.equal(match?.charStart, 33);
});

test("a minimum similarity of 1 accepts only the same words", () => {
  assert.equal(findPhrase("thank you for caling", "thank you for calling", 1), null);
});

test("accents and curly apostrophes do not prevent a match", () => {
  assert.equal(findPhrase("Merci, café fermé", "cafe ferme", 1)?.quote, "café fermé");
});

test("phrases that differ in their key word do not match, however alike the letters", () => {
  assert.equal(findPhrase("thank you for calling Acme", "thank you for holding", 0.8), null);
  assert.equal(findPhrase("thanks for waiting", "thanks for calling", 0.8), null);
  assert.equal(findPhrase("have a good day", "have a great day", 0.8), null);
  assert.equal(findPhrase("sorry I don't understand", "I understand", 0.8), null);
  assert.equal(findPhrase("sorry, I can't help with that", "I can help with that", 0.8), null);
});

test("merged or split words from speech recognition still match", () => {
  assert.equal(
    findPhrase("thankyou for calling", "thank you for calling", 0.8)?.quote,
    "thankyou for calling",
  );
  assert.equal(
    findPhrase("thank you for call ing", "thank you for calling", 0.8)?.quote,
    "thank you for call ing",
  );
});
