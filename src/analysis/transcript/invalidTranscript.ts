import { AppError } from "../../core/errors.ts";

const acceptedForms =
  'Accepted forms: plain text with one "Agent: …" or "Customer: …" line per turn, SRT or WebVTT ' +
  'subtitles, or JSON segments such as [{"speaker": "agent", "text": "Hello", "start": 0.5}].';

/** The error for a transcript that cannot be used, saying what is wrong and what would work. */
export function invalidTranscript(problem: string, cause?: unknown): AppError {
  return new AppError(
    "TRANSCRIPT_INVALID",
    `${problem} ${acceptedForms}`,
    cause === undefined ? {} : { cause },
  );
}
