import type { TranscriptTurn } from "../../core/transcript.ts";

/** A turn as a format parser reads it, before turns are numbered. */
export type TurnDraft = Omit<TranscriptTurn, "index">;

/** What a format parser hands back: the turns and any assumption it made. */
export interface TranscriptDraft {
  turns: TurnDraft[];
  notes: string[];
}
