// The analysis module: reading transcripts and scoring them against quality profiles. Pure functions,
// no I/O; the pipeline decides when they run and stores what they return.
export {
  parseProfileDefinition,
  profileDefinitionInputSchema,
  profileDefinitionToApi,
} from "./profileSchema.ts";
export { type EvaluationContext, evaluateKpi } from "./scoring/evaluateKpi.ts";
export { findPhrase, type PhraseMatch } from "./scoring/fuzzyMatch.ts";
export {
  type CategoryScores,
  type KpiScores,
  type ProfileScores,
  rollUp,
  type ScoreTotals,
  type SubCategoryScores,
  scoreProfile,
} from "./scoring/scoreProfile.ts";
export { starterProfileDefinition } from "./starterProfile.ts";
export { parseTranscript, type TranscriptHint } from "./transcript/parseTranscript.ts";
