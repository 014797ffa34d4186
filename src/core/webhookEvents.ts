/** The webhook events of the Standard API. */
export type WebhookEvent =
  | "INTERACTION_INGESTED"
  | "INTERACTION_ANALYSIS_IN_PROGRESS"
  | "INTERACTION_ANALYSIS_COMPLETED"
  | "INTERACTION_ANALYSIS_FAILED"
  | "INTERACTION_DISPUTE_RAISED"
  | "INTERACTION_DISPUTE_RESOLVED"
  | "FILE_INGESTION_COMPLETED";

export const webhookEvents: readonly WebhookEvent[] = [
  "INTERACTION_INGESTED",
  "INTERACTION_ANALYSIS_IN_PROGRESS",
  "INTERACTION_ANALYSIS_COMPLETED",
  "INTERACTION_ANALYSIS_FAILED",
  "INTERACTION_DISPUTE_RAISED",
  "INTERACTION_DISPUTE_RESOLVED",
  "FILE_INGESTION_COMPLETED",
];

export interface WebhookEnvelope {
  event: WebhookEvent;
  deliveryId: string;
  timestamp: Date;
  accountId: string;
  interactionId?: string;
  externalInteractionId?: string;
  data: Record<string, unknown>;
}

/** The exact JSON body of a webhook, fields in the documented order (camelCase). */
export function webhookBody(envelope: WebhookEnvelope): string {
  return JSON.stringify({
    event: envelope.event,
    deliveryId: envelope.deliveryId,
    timestamp: envelope.timestamp.toISOString(),
    accountId: envelope.accountId,
    ...(envelope.interactionId === undefined ? {} : { interactionId: envelope.interactionId }),
    ...(envelope.externalInteractionId === undefined
      ? {}
      : { externalInteractionId: envelope.externalInteractionId }),
    data: envelope.data,
  });
}
