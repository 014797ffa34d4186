import type { ProfileDefinition } from "../core/qualityProfile.ts";
import { parseProfileDefinition } from "./profileSchema.ts";

// Phrases are what agents actually say on calls and chats; fuzzy matching absorbs small speech-
// recognition errors, and contractions are matched either way ("I'm" = "I am").

const greetings = [
  "thank you for calling",
  "thanks for calling",
  "thank you for contacting",
  "thanks for contacting",
  "welcome to",
  "good morning",
  "good afternoon",
  "good evening",
  "hello",
  "hi there",
  "how can I help you",
  "how may I help you",
  "how may I assist you",
  "you're speaking with",
  "you're through to",
  "my name is",
];

const verificationRequests = [
  "verify your identity",
  "verify the account",
  "confirm your identity",
  "date of birth",
  "postcode",
  "post code",
  "zip code",
  "last four digits",
  "last 4 digits",
  "security question",
  "confirm your full name",
  "confirm your name",
  "confirm your account number",
  "first line of your address",
  "confirm your address",
  "email address on your account",
];

const empathyPhrases = [
  "I understand",
  "I completely understand",
  "I'm sorry to hear",
  "I'm so sorry",
  "I'm sorry about that",
  "I apologise",
  "I apologize",
  "I can imagine",
  "that must be frustrating",
  "that sounds frustrating",
  "I can see why",
  "I know how frustrating",
  "sorry for the inconvenience",
  "I appreciate your patience",
];

const holdStarts = [
  "put you on hold",
  "place you on hold",
  "put you on a brief hold",
  "please hold",
  "bear with me",
  "one moment please",
  "just a moment",
  "hold the line",
];

const holdReturns = [
  "thank you for holding",
  "thanks for holding",
  "thank you for waiting",
  "thanks for waiting",
  "thank you for your patience",
  "thanks for your patience",
  "sorry for the wait",
  "sorry to keep you waiting",
  "sorry for keeping you waiting",
  "apologies for the wait",
];

const closings = [
  "anything else I can help you with",
  "anything else I can do for you",
  "is there anything else",
  "thank you for calling",
  "thanks for calling",
  "thank you for contacting",
  "thanks for contacting",
  "have a great day",
  "have a good day",
  "have a nice day",
  "have a lovely day",
  "have a good evening",
  "have a great weekend",
  "take care",
  "goodbye",
];

// Kept short on purpose: a fatal KPI must not fire on innocent words. Single words match exactly.
const prohibited = [
  "shut up",
  "idiot",
  "stupid",
  "moron",
  "not my problem",
  "screw you",
  "piss off",
  "fuck",
  "fucking",
  "shit",
  "bullshit",
  "bitch",
  "bastard",
  "asshole",
];

const options = (allowNa: boolean) => [
  { value: "Yes", label: "Yes", score: 10 },
  { value: "Partially", label: "Partially", score: 5 },
  { value: "No", label: "No", score: 0 },
  ...(allowNa ? [{ value: "N/A", label: "Not applicable", score: 0 }] : []),
];

const starterProfileInput = {
  name: "Starter quality profile",
  description:
    "Greeting, identity verification, empathy, hold etiquette, closing and professional language. " +
    "Copy and adapt it to your own scorecard.",
  categories: [
    {
      id: "opening",
      name: "Opening",
      sub_categories: [
        {
          id: "greeting",
          name: "Greeting",
          kpis: [
            {
              id: "greeting",
              name: "Greeting",
              question: "Did the agent greet the customer at the start of the conversation?",
              options: options(false),
              suggestion:
                "Open every conversation with a greeting, the company name and your name, e.g. “Thank you for calling Acme, my name is Sam, how can I help?”",
              evaluator: {
                type: "phrase_present",
                phrases: greetings,
                speaker: "agent",
                window: { first_seconds: 30, first_turns: 2 },
              },
            },
          ],
        },
      ],
    },
    {
      id: "compliance",
      name: "Compliance",
      sub_categories: [
        {
          id: "identity-verification",
          name: "Identity verification",
          kpis: [
            {
              id: "identity-verification",
              name: "Identity verification",
              question: "Did the agent verify the customer's identity before discussing the account?",
              criticality: "critical",
              options: options(false),
              suggestion:
                "Verify the customer before discussing or changing the account: ask for their date of birth, postcode or the answer to their security question.",
              evaluator: { type: "phrase_present", phrases: verificationRequests, speaker: "agent" },
            },
          ],
        },
        {
          id: "professional-language",
          name: "Professional language",
          kpis: [
            {
              id: "prohibited-language",
              name: "Prohibited language",
              question: "Did the agent avoid abusive, dismissive and profane language?",
              criticality: "fatal",
              options: options(false),
              suggestion:
                "Never insult, dismiss or swear at a customer, even when they are difficult. Ask a team leader for help instead.",
              evaluator: { type: "phrase_absent", phrases: prohibited, speaker: "agent" },
            },
          ],
        },
      ],
    },
    {
      id: "soft-skills",
      name: "Soft skills",
      sub_categories: [
        {
          id: "empathy",
          name: "Empathy",
          kpis: [
            {
              id: "empathy",
              name: "Empathy",
              question: "Did the agent acknowledge the customer's situation with empathy?",
              options: options(false),
              suggestion:
                "Acknowledge how the customer feels before solving the problem, e.g. “I'm sorry to hear that, I can imagine how frustrating it is.”",
              evaluator: { type: "phrase_present", phrases: empathyPhrases, speaker: "agent" },
            },
          ],
        },
        {
          id: "hold-etiquette",
          name: "Hold etiquette",
          kpis: [
            {
              id: "hold-etiquette",
              name: "Hold etiquette",
              question:
                "When the agent put the customer on hold, did they thank them for holding or apologise for the wait?",
              allow_na: true,
              options: options(true),
              suggestion:
                "After a hold, thank the customer for holding or apologise for the wait before carrying on.",
              evaluator: {
                type: "phrase_present",
                phrases: holdReturns,
                speaker: "agent",
                applies_when: { phrase_present: { phrases: holdStarts, speaker: "agent" } },
              },
            },
          ],
        },
      ],
    },
    {
      id: "closing",
      name: "Closing",
      sub_categories: [
        {
          id: "call-closing",
          name: "Call closing",
          kpis: [
            {
              id: "closing",
              name: "Closing",
              question: "Did the agent close the conversation properly?",
              options: options(false),
              suggestion:
                "Before ending, ask whether there is anything else you can help with, thank the customer and wish them a good day.",
              evaluator: {
                type: "phrase_present",
                phrases: closings,
                speaker: "agent",
                window: { last_turns: 3 },
              },
            },
          ],
        },
      ],
    },
  ],
};

/**
 * The quality profile every new account starts with, so that its first conversation is analysed
 * without any configuration: greeting, identity verification (critical), empathy, hold etiquette,
 * closing and prohibited language (fatal).
 */
export function starterProfileDefinition(): ProfileDefinition {
  return parseProfileDefinition(starterProfileInput);
}
