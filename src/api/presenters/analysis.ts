// The analysis detail document lives with the analysis module, so connectors (the S3 output folder,
// feedback topics) write the same document the REST API answers.
export { presentAnalysisDetail, presentAnalysisSummary } from "../../analysis/analysisDocument.ts";
